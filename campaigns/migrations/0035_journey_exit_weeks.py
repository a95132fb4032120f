"""Weekly sums of the exit rollups, built with the walk weeks under the same JourneyWalkWeek. The weeks built before
have no exit rows: they are forgotten, so that the worker sums them again (their days are read until then)."""

import django.db.models.deletion
from django.db import migrations, models


def walk_weeks_forget(apps, schema_editor) -> None:
    apps.get_model("campaigns", "JourneyWalkWeek").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0034_journey_label_weeks'),
    ]

    operations = [
        migrations.CreateModel(
            name='JourneyExitPathsWeekly',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('week', models.DateField()),
                ('device', models.CharField(max_length=8, null=True)),
                ('source', models.CharField(max_length=64, null=True)),
                ('returning', models.BooleanField(null=True)),
                ('label', models.CharField(max_length=200)),
                ('step', models.PositiveSmallIntegerField(null=True)),
                ('paths', models.JSONField()),
                ('site', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='campaigns.site')),
            ],
            options={
                'verbose_name_plural': 'journey exit paths weeks',
                'indexes': [models.Index(fields=['site', 'week'], name='journey_exit_paths_site_week'), models.Index(fields=['site', 'label', 'step', 'device', 'source', 'returning', 'week'], name='journey_exit_paths_week_label')],
            },
        ),
        migrations.CreateModel(
            name='JourneyExitWeekly',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('week', models.DateField()),
                ('device', models.CharField(max_length=8, null=True)),
                ('source', models.CharField(max_length=64, null=True)),
                ('returning', models.BooleanField(null=True)),
                ('label', models.CharField(max_length=200)),
                ('step', models.PositiveSmallIntegerField()),
                ('ordinal', models.PositiveSmallIntegerField()),
                ('exits', models.PositiveIntegerField()),
                ('site', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='campaigns.site')),
            ],
            options={
                'verbose_name_plural': 'journey exit weeks',
                'indexes': [models.Index(fields=['site', 'week'], name='journey_exit_weekly_site_week'), models.Index(fields=['site', 'device', 'source', 'returning', 'week'], include=('label', 'step', 'ordinal', 'exits'), name='journey_exit_week_segment')],
            },
        ),
        migrations.RunPython(walk_weeks_forget, migrations.RunPython.noop),
    ]
