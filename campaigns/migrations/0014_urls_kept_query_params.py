"""Stored page URLs keep only the query parameters a site allows (the UTM ones by default), never a fragment.

The events already stored are cleaned here, a chunk at a time and each chunk in its own transaction, so a large
table is neither locked nor held in memory at once. The cleaning is campaigns/url_hygiene.py's, copied so that
this migration does not change when that module does.
"""

from urllib.parse import unquote_to_bytes

from django.db import migrations, models, transaction
from django.db.models import Q

import campaigns.models.site

CHUNK = 2000
DEFAULT_KEPT = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


def _decode(s: str) -> str:
    if "%" not in s:
        return s
    try:
        return unquote_to_bytes(s).decode("utf-8")
    except (UnicodeDecodeError, ValueError):
        return s


def _clean(url: str, kept: frozenset) -> str:
    if "?" not in url and "#" not in url:
        return url
    base, _, query = url.partition("#")[0].partition("?")
    pairs = [p for p in query.split("&") if p and _decode(p.partition("=")[0].replace("+", " ")) in kept]
    return f"{base}?{'&'.join(pairs)}" if pairs else base


def events_clean(apps, schema_editor):
    Site = apps.get_model("campaigns", "Site")
    Event = apps.get_model("campaigns", "Event")
    kept_by_site = {
        site_id: frozenset(kept if isinstance(kept, list) else DEFAULT_KEPT)
        for site_id, kept in Site.objects.values_list("id", "kept_query_params")
    }
    dirty = Q(url__contains="?") | Q(url__contains="#") | Q(payload__has_key="referrer")
    last_id = 0
    while True:
        rows = list(
            Event.objects.filter(dirty, id__gt=last_id).order_by("id").only("id", "site_id", "url", "payload")[:CHUNK]
        )
        if not rows:
            return
        last_id = rows[-1].id
        changed = []
        for event in rows:
            kept = kept_by_site.get(event.site_id, frozenset(DEFAULT_KEPT))
            url = _clean(event.url, kept)
            referrer = event.payload.get("referrer") if isinstance(event.payload, dict) else None
            if isinstance(referrer, str):
                event.payload = {**event.payload, "referrer": _clean(referrer, kept)}
            if url != event.url or isinstance(referrer, str):
                event.url = url
                changed.append(event)
        if changed:
            with transaction.atomic(using=schema_editor.connection.alias):
                Event.objects.bulk_update(changed, ["url", "payload"])


class Migration(migrations.Migration):
    # Each chunk commits on its own (see events_clean).
    atomic = False

    dependencies = [
        ("campaigns", "0013_visitor_data"),
    ]

    operations = [
        migrations.AddField(
            model_name="site",
            name="kept_query_params",
            field=models.JSONField(
                blank=True,
                default=campaigns.models.site.kept_params_default,
                help_text='The only query parameters kept in stored page URLs, e.g. ["utm_source", "ref"]; every '
                "other one (an e-mail address or a token in a link) is dropped before an event is stored. "
                "Targeting and URL goals may only name these.",
                validators=[campaigns.models.site.validate_kept_params],
            ),
        ),
        migrations.RunPython(events_clean, migrations.RunPython.noop),
    ]
