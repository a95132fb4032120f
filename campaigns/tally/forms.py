"""Form answers a bot sent, found when the tally claims a batch, before anything in it is counted.

Collect cannot tell them apart without a round trip per visitor: the time a form took is measured from the
stored impression of that visitor and campaign to the submit's receipt, and the limits count the answers already
kept. The tally reads both once per batch (a few queries, none per event), so the collect path stays as it is.
A refused submit is deleted with its raw event, counts nowhere (no Response, no submit, no conversion) and is
counted in RejectedEventCount under its reason, as collect counts the events it refuses.
"""

from collections import Counter, defaultdict
from datetime import datetime, timedelta

from django.db import connection

from campaigns.models import Event, RejectedEventCount, Response, Site
from campaigns.pseudonyms import email_hash

# Reasons, as stored in RejectedEventCount (the honeypot is collect's own: campaigns/ingest/checks.py).
REASON_NO_IMPRESSION = "form_no_impression"
REASON_TOO_FAST = "form_too_fast"
REASON_EMAIL_LIMIT = "form_email_limit"
REASON_ADDRESS_LIMIT = "form_address_limit"

EMAIL_WINDOW = timedelta(days=1)
ADDRESS_WINDOW = timedelta(hours=1)


def _email_of(payload) -> str:
    """The e-mail address a lead answer would keep (as records.response_of reads it), else ''."""
    data = payload if isinstance(payload, dict) else {}
    email = data.get("email")
    return email[:254] if data.get("form") == Response.Form.LEAD and isinstance(email, str) and "@" in email else ""


def _answer(payload) -> bool:
    """The submit becomes a Response (the limits count those)."""
    return isinstance(payload, dict) and payload.get("form") in Response.Form.values


def _within(times: list[datetime], *, moment: datetime, window: timedelta) -> int:
    return sum(1 for t in times if moment - window < t <= moment)


def submits_screen(*, event_ids: list[int]) -> set[int]:
    """The ids of the submits among `event_ids` (a batch, in its order) refused as a bot's; their raw events are
    deleted and their reasons counted, in the caller's transaction."""
    submits = list(
        Event.objects.filter(id__in=event_ids, type="submit", campaign_id__isnull=False)
        .order_by("tx", "id").values("id", "site_id", "visitor_id", "campaign_id", "received_at", "ip_hash", "payload")
    )
    if not submits:
        return set()
    site_ids = {s["site_id"] for s in submits}
    limits = {row["id"]: row for row in Site.objects.filter(id__in=site_ids).values(
        "id", "form_min_fill_seconds", "leads_per_mailbox_per_day", "leads_per_ip_per_hour")}
    latest = max(s["received_at"] for s in submits)
    earliest = min(s["received_at"] for s in submits)

    shown: dict[tuple[int, str, int], list[datetime]] = defaultdict(list)
    for row in Event.objects.filter(
        type="impression", site_id__in=site_ids, visitor_id__in={s["visitor_id"] for s in submits},
        campaign_id__in={s["campaign_id"] for s in submits}, received_at__lte=latest,
    ).values_list("site_id", "visitor_id", "campaign_id", "received_at"):
        shown[row[:3]].append(row[3])

    hashes = {s["id"]: email_hash(email=email) for s in submits if (email := _email_of(s["payload"]))}
    by_email: dict[tuple[int, str], list[datetime]] = defaultdict(list)
    if hashes:
        for site_id, hashed, received in Response.objects.filter(
            site_id__in=site_ids, email_hash__in=set(hashes.values()), received_at__gt=earliest - EMAIL_WINDOW
        ).values_list("site_id", "email_hash", "received_at"):
            by_email[(site_id, hashed)].append(received)
    by_address: dict[tuple[int, str], list[datetime]] = defaultdict(list)
    addresses = {s["ip_hash"] for s in submits if s["ip_hash"] and _answer(s["payload"])}
    if addresses:
        for site_id, hashed, received in Response.objects.filter(
            site_id__in=site_ids, ip_hash__in=addresses, received_at__gt=earliest - ADDRESS_WINDOW
        ).values_list("site_id", "ip_hash", "received_at"):
            by_address[(site_id, hashed)].append(received)

    refused: dict[int, tuple[int, datetime, str]] = {}
    for s in submits:
        site, received = limits[s["site_id"]], s["received_at"]
        before = [t for t in shown[(s["site_id"], s["visitor_id"], s["campaign_id"])] if t <= received]
        reason = None
        if not before:
            reason = REASON_NO_IMPRESSION
        elif (received - max(before)).total_seconds() < site["form_min_fill_seconds"]:
            reason = REASON_TOO_FAST
        elif s["id"] in hashes and _within(by_email[(s["site_id"], hashes[s["id"]])], moment=received,
                                            window=EMAIL_WINDOW) >= site["leads_per_mailbox_per_day"]:
            reason = REASON_EMAIL_LIMIT
        elif s["ip_hash"] and _answer(s["payload"]) and _within(
            by_address[(s["site_id"], s["ip_hash"])], moment=received, window=ADDRESS_WINDOW
        ) >= site["leads_per_ip_per_hour"]:
            reason = REASON_ADDRESS_LIMIT
        if reason is not None:
            refused[s["id"]] = (s["site_id"], received, reason)
            continue
        # Kept: the next answers of the batch count it too.
        if s["id"] in hashes:
            by_email[(s["site_id"], hashes[s["id"]])].append(received)
        if s["ip_hash"] and _answer(s["payload"]):
            by_address[(s["site_id"], s["ip_hash"])].append(received)
    if not refused:
        return set()
    Event.objects.filter(id__in=list(refused)).delete()
    _refusals_count(Counter((site_id, received.date(), reason) for site_id, received, reason in refused.values()))
    return set(refused)


def _refusals_count(counts: Counter) -> None:
    """Added to RejectedEventCount in one upsert, as collect adds its refusals (in the tally's transaction, so a
    batch counted again after a rollback counts them once)."""
    table = RejectedEventCount._meta.db_table
    rows = sorted(counts.items())  # a stable order, so concurrent upserts lock rows in the same order
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (site_id, day, reason, count) VALUES "
            + ", ".join(["(%s, %s, %s, %s)"] * len(rows))
            + f" ON CONFLICT (site_id, day, reason) DO UPDATE SET count = {table}.count + EXCLUDED.count",
            [value for (site_id, day, reason), count in rows for value in (site_id, day, reason, count)],
        )
