"""The walk (daily and weekly) and exit-path rollups' JSON compressed with lz4 rather than pglz (PostgreSQL 14+ built with lz4):
a large site's day of walk steps is some 75 MB of JSON, which pglz compresses in over a second of the worker's build
and lz4 in a fraction of it (bench/journeys_bench.py prints the build's time)."""

from django.db import migrations

COLUMNS = (("campaigns_journeywalkdaily", "steps"), ("campaigns_journeywalkweekly", "steps"),
           ("campaigns_journeyexitpathsdaily", "paths"))


def _compression_set(apps, schema_editor, method: str) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND %s = ANY(enumvals)",
                       [method])
        if cursor.fetchone() is None:  # a server built without lz4 keeps pglz
            return
        for table, column in COLUMNS:
            cursor.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" SET COMPRESSION {method}')


def lz4(apps, schema_editor) -> None:
    _compression_set(apps, schema_editor, "lz4")


def pglz(apps, schema_editor) -> None:
    _compression_set(apps, schema_editor, "pglz")


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0032_journey_walk_weeks")]

    operations = [migrations.RunPython(lz4, pglz)]
