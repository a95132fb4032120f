from django.db import migrations

# The journey fold updates the same page and transition rows batch after batch (a day's keys recur all day). With
# room left on each page those updates are HOT (no new index entries for the two indexes of each table); full pages
# made every one of them a new heap tuple plus two index insertions. Half free: a batch can update every row of a
# page once. The cost is about twice the heap for these two tables. PostgreSQL only (SQLite has no fillfactor).
TABLES = ("campaigns_journeypagedaily", "campaigns_journeytransitiondaily")
FILLFACTOR = 50


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {FILLFACTOR})")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"ALTER TABLE {table} RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0020_goal_help_full_url")]
    operations = [migrations.RunPython(forwards, backwards)]
