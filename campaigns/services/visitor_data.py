"""Data-subject requests: export and erase one person's data on a site, each logged as a DataRequest.

Erasure deletes the raw events, assignments, funnel steps and responses the look-up leads to, and keeps the
consent records with their visitor link blanked (the proof must outlive the data, for its retention period).
The daily counters are aggregates and are not decremented: results stay what they were. A visitor whose
assignments are gone is assigned again if they return and counted as a new visitor; the results say how many
were erased (selectors/visitor_data.py, visitors_erased).

On PostgreSQL the erasure holds the tally's advisory lock, so it never lands between the tally reading a
visitor's assignments and writing them back. Events not counted yet are erased with the rest (they never
count); a consent decision among them is first made into its record, without the link, so its proof survives.
"""

import logging
from datetime import timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from campaigns.journeys import funnel_rollups
from campaigns.models import ConsentRecord, DataRequest, Event, Site
from campaigns.selectors.visitor_data import (
    DELETE,
    SOURCES,
    Subject,
    subject_resolve,
    visitor_data_collect,
    visitor_data_counts,
)
from campaigns.tally.lock import tally_lock
from campaigns.tally.records import consent_of

logger = logging.getLogger(__name__)

LOCK_WAIT_SECONDS = 30
BUSY = "the tally is busy counting; try again in a minute"


class VisitorDataBusy(Exception):
    """The tally held its lock for longer than LOCK_WAIT_SECONDS; nothing was erased."""


def visitor_data_export(
    *, site: Site, requested_by: AbstractBaseUser | None, channel: str, visitor_id: str = "", email: str = ""
) -> tuple[DataRequest, dict]:
    """The person's data as a JSON-ready dict, and the logged request (its id is in the export)."""
    subject = subject_resolve(site=site, visitor_id=visitor_id, email=email)
    export = visitor_data_collect(site=site, subject=subject)
    request = _log(site=site, requested_by=requested_by, channel=channel, action=DataRequest.Action.EXPORT,
                   subject=subject, found=export["counts"], erased={})
    return request, {"request": request.id, **export}


def visitor_data_erase(
    *, site: Site, requested_by: AbstractBaseUser | None, channel: str, visitor_id: str = "", email: str = ""
) -> DataRequest:
    """Erase the person's rows on this site (see the module's docstring); the request says what was found and
    erased. Raises VisitorDataBusy when the tally keeps its lock too long, LookupInvalid on a bad look-up."""
    with transaction.atomic():
        _tally_lock()
        subject = subject_resolve(site=site, visitor_id=visitor_id, email=email)
        found = visitor_data_counts(site=site, subject=subject)
        _uncounted_consent_keep(site=site, subject=subject)
        # The stage funnel's daily rollups count these visitors: their days are rebuilt without them.
        funnel_rollups.visitor_days_mark(site_id=site.id, visitor_ids=subject.visitor_ids)
        erased = {}
        for source in SOURCES:
            rows = source.rows(site, subject)
            if source.erase == DELETE:
                erased[source.name], _by_model = rows.delete()
            else:
                erased[source.name] = rows.update(**{field: "" for field in source.unlink})
        request = _log(site=site, requested_by=requested_by, channel=channel, action=DataRequest.Action.ERASE,
                       subject=subject, found=found, erased=erased)
    logger.info("visitor_data_erase: site %s, request %s: %s", site.id, request.id, erased)
    return request


def _log(*, site: Site, requested_by: AbstractBaseUser | None, channel: str, action: str, subject: Subject,
         found: dict, erased: dict) -> DataRequest:
    # A look-up by visitor id that found nothing led to no one: "N erased" counts people whose data was stored.
    visitors = len(subject.visitor_ids) if any(found.values()) else 0
    return DataRequest.objects.create(
        site=site, requested_by=requested_by, channel=channel,
        action=action, lookup=subject.lookup, lookup_hash=subject.lookup_hash, visitors=visitors, found=found,
        erased=erased,
    )


def _tally_lock() -> None:
    if connection.vendor != "postgresql":
        return  # SQLite runs one writing transaction at a time: the tally cannot interleave
    if not tally_lock(wait_seconds=LOCK_WAIT_SECONDS):
        raise VisitorDataBusy(BUSY)


def _uncounted_consent_keep(*, site: Site, subject: Subject) -> None:
    """The records of consent events about to be erased, made as the tally would, without the visitor link.
    One the tally already made is left as it is (the same unique event id); one past its retention is not made."""
    kept_since = timezone.now() - timedelta(days=site.consent_retention_days)
    names = ("site_id", "event_id", "type", "ts", "received_at", "visitor_id", "url", "payload", "ip_truncated",
             "user_agent")
    events = Event.objects.filter(site=site, type="consent", visitor_id__in=subject.visitor_ids,
                                  received_at__gte=kept_since).values(*names)
    records = [record for event in events if (record := consent_of({**event, "visitor_id": ""})) is not None]
    if records:
        ConsentRecord.objects.bulk_create(records, ignore_conflicts=True)
