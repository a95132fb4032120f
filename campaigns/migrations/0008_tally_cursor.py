"""The tally reads events in commit order past a cursor; the inbox table (a second row per event) goes.

Events already counted stay behind the cursor; events still in the inbox get tx = 1, which sorts after the
cursor and before every real transaction id (PostgreSQL's first normal one is 3), so they are counted next.
"""

from django.db import migrations, models

# pg_current_xact_id() is xid8; through text it fits a bigint (64-bit, never wraps around).
XACT_ID = "(pg_current_xact_id()::text::bigint)"


def cursor_start(apps, schema_editor):
    Event = apps.get_model("campaigns", "Event")
    EventInbox = apps.get_model("campaigns", "EventInbox")
    TallyCursor = apps.get_model("campaigns", "TallyCursor")
    last = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    TallyCursor.objects.create(id=1, last_tx=0, last_id=last)
    Event.objects.filter(id__in=EventInbox.objects.values("event_id")).update(tx=1)


def xact_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE campaigns_event ALTER COLUMN tx SET DEFAULT {XACT_ID}")


def xact_default_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE campaigns_event ALTER COLUMN tx SET DEFAULT 0")


class Migration(migrations.Migration):

    dependencies = [
        ("campaigns", "0007_mixed_exposures"),
    ]

    operations = [
        migrations.AddField(
            model_name="event",
            name="tx",
            field=models.BigIntegerField(db_default=0, editable=False),
        ),
        migrations.CreateModel(
            name="TallyCursor",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("last_tx", models.BigIntegerField(default=0)),
                ("last_id", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(cursor_start, migrations.RunPython.noop),
        migrations.DeleteModel(name="EventInbox"),
        migrations.RunPython(xact_default, xact_default_drop),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(fields=["tx", "id"], name="event_tally_order"),
        ),
    ]
