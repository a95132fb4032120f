# Site.language and Campaign.language: the language of the widget's own words.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0024_installation_check'),
    ]

    operations = [
        migrations.AddField(
            model_name='campaign',
            name='language',
            field=models.CharField(blank=True, choices=[('en', 'English'), ('pl', 'Polski'), ('ro', 'Română'), ('fa', 'فارسی')], default='', help_text="The language of the message's built-in words; empty: the page's, else the site's.", max_length=8, verbose_name='language'),
        ),
        migrations.AddField(
            model_name='site',
            name='language',
            field=models.CharField(choices=[('en', 'English'), ('pl', 'Polski'), ('ro', 'Română'), ('fa', 'فارسی')], default='en', help_text="The language of the widget's own words (Send, Close...) when the page's <html lang> is not one it speaks.", max_length=8, verbose_name='language'),
        ),
    ]
