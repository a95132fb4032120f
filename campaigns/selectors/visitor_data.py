"""Reads for data-subject requests: whose rows a visitor id or an e-mail address leads to, and all of them as JSON.

SOURCES is the registry every model holding a visitor id, an e-mail address or a link to one must join (a test
enumerates the models and fails on one that is neither here nor in EXEMPT): it says how to find one person's
rows on a site, and what erasure does to them. Exports and erasures (campaigns/services/visitor_data.py) read
only this list, so a new model cannot be forgotten by one and not the other.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model, Q, QuerySet, Sum
from django.utils import timezone

from campaigns.models import (
    Assignment,
    AudienceVisitorDay,
    Campaign,
    ConsentRecord,
    DataRequest,
    Event,
    FunnelStep,
    JourneySession,
    JourneyVisitorStage,
    Response,
    Site,
)
from campaigns.pseudonyms import email_hash, email_normalize, visitor_hash

DELETE = "delete"
UNLINK = "unlink"
EXPORT_FORMAT = 1
MAX_INPUT_LENGTH = 254  # an e-mail address at most; visitor ids are 64 characters

LOOKUP_MISSING = "give exactly one of a visitor id or an e-mail address"
EMAIL_INVALID = "not an e-mail address"
LOOKUP_TOO_LONG = f"longer than {MAX_INPUT_LENGTH} characters"
LOOKUP_NOT_TEXT = "not valid text (a control character or a lone surrogate)"


class LookupInvalid(ValueError):
    """The look-up cannot name anyone (both or neither given, a malformed address); the message says why."""


@dataclass(frozen=True)
class Subject:
    """The person a request is about, resolved on one site: their visitor ids and, by e-mail, the address."""

    lookup: str  # DataRequest.Lookup
    lookup_hash: str
    visitor_ids: tuple[str, ...]
    visitor_hashes: tuple[str, ...]
    email: str  # normalised; "" for a look-up by visitor id
    email_hash: str
    campaign_ids: tuple[int, ...]  # where their funnel steps can be (FunnelStep has no site)


@dataclass(frozen=True)
class Source:
    """One kind of stored row: how to find a person's rows on a site, and what erasure does to them."""

    name: str
    model: type[Model]
    rows: Callable[[Site, Subject], QuerySet]
    erase: str  # DELETE, or UNLINK: keep the row and blank `unlink`'s fields
    unlink: tuple[str, ...] = ()
    why: str = ""


def _events(site: Site, subject: Subject) -> QuerySet:
    # A submit whose response was never made (or is gone) still carries the address in its payload.
    match = Q(visitor_id__in=subject.visitor_ids)
    if subject.email:
        match |= Q(type="submit", payload__email__iexact=subject.email)
    return Event.objects.filter(match, site=site)


def _assignments(site: Site, subject: Subject) -> QuerySet:
    return Assignment.objects.filter(site=site, visitor_id__in=subject.visitor_ids)


def _funnel_steps(site: Site, subject: Subject) -> QuerySet:
    return FunnelStep.objects.filter(campaign_id__in=subject.campaign_ids, visitor_id__in=subject.visitor_ids)


def _responses(site: Site, subject: Subject) -> QuerySet:
    match = Q(visitor_id__in=subject.visitor_ids)
    if subject.email_hash:
        match |= Q(email_hash=subject.email_hash)
    return Response.objects.filter(match, site=site)


def _consent_records(site: Site, subject: Subject) -> QuerySet:
    return ConsentRecord.objects.filter(site=site, visitor_hash__in=subject.visitor_hashes)


def _journey_sessions(site: Site, subject: Subject) -> QuerySet:
    return JourneySession.objects.filter(site=site, visitor_id__in=subject.visitor_ids)


def _journey_stages(site: Site, subject: Subject) -> QuerySet:
    return JourneyVisitorStage.objects.filter(site=site, visitor_id__in=subject.visitor_ids)


def _audience_days(site: Site, subject: Subject) -> QuerySet:
    return AudienceVisitorDay.objects.filter(site=site, visitor_id__in=subject.visitor_ids)


# Erasure runs in this order; the rows are all found (the Subject) before anything is deleted.
SOURCES: tuple[Source, ...] = (
    Source("events", Event, _events, DELETE, why="raw events, with pages, answers and the device"),
    Source("assignments", Assignment, _assignments, DELETE,
           why="deleted, so that a returning visitor is assigned again and counted as a new one"),
    Source("funnel_steps", FunnelStep, _funnel_steps, DELETE, why="as assignments"),
    Source("responses", Response, _responses, DELETE, why="answers and leads"),
    Source("consent_records", ConsentRecord, _consent_records, UNLINK, unlink=("visitor_hash",),
           why="proof of consent is kept for its retention period, no longer linked to the visitor"),
    Source("journey_sessions", JourneySession, _journey_sessions, DELETE, why="the pages of each visit, in order"),
    Source("journey_stages", JourneyVisitorStage, _journey_stages, DELETE,
           why="when the visitor first reached each journey stage"),
    Source("audience_days", AudienceVisitorDay, _audience_days, DELETE,
           why="the days the visitor was in each audience (the daily counts keep their totals)"),
)

# Models with a field named like a visitor or an e-mail that hold no visitor's personal data, and why.
EXEMPT: dict[str, str] = {
    "auth.user": "site owners' accounts, not visitors",
    "campaigns.datarequest": "the log of requests: it keeps the keyed hash of the look-up, never the value",
    "campaigns.variantdailystats": "aggregate counters: visitor counts, no visitor",
    "campaigns.journeystagedaily": "the stage funnel's daily sums: visitor counts, no visitor (an erasure marks "
                                   "the erased visitors' days for a rebuild without them)",
    "campaigns.audiencedaily": "aggregate counters: an audience's visitor count per day, no visitor",
}


def subject_resolve(*, site: Site, visitor_id: str = "", email: str = "") -> Subject:
    """The person behind a visitor id, or behind an e-mail address (the visitors who sent it in a form)."""
    visitor_id, email = (visitor_id or "").strip(), (email or "").strip()
    if bool(visitor_id) == bool(email):
        raise LookupInvalid(LOOKUP_MISSING)
    if len(visitor_id) > MAX_INPUT_LENGTH or len(email) > MAX_INPUT_LENGTH:
        raise LookupInvalid(LOOKUP_TOO_LONG)
    if not _is_text(visitor_id + email):
        raise LookupInvalid(LOOKUP_NOT_TEXT)
    if visitor_id:
        lookup, key, visitors = DataRequest.Lookup.VISITOR, visitor_hash(visitor_id=visitor_id), {visitor_id}
        normalized = hashed = ""
    else:
        normalized = email_normalize(email=email)
        local, _, domain = normalized.partition("@")
        if not local or not domain:
            raise LookupInvalid(EMAIL_INVALID)
        lookup, key = DataRequest.Lookup.EMAIL, email_hash(email=normalized)
        hashed = key
        visitors = set(Response.objects.filter(site=site, email_hash=hashed).values_list("visitor_id", flat=True))
        visitors |= set(Event.objects.filter(site=site, type="submit", payload__email__iexact=normalized)
                        .values_list("visitor_id", flat=True))
    visitor_ids = tuple(sorted(v for v in visitors if v))
    campaign_ids = set(Campaign.objects.filter(site=site).values_list("id", flat=True))
    campaign_ids |= set(Assignment.objects.filter(site=site, visitor_id__in=visitor_ids)
                        .values_list("campaign_id", flat=True))
    return Subject(
        lookup=lookup, lookup_hash=key, visitor_ids=visitor_ids,
        visitor_hashes=tuple(visitor_hash(visitor_id=v) for v in visitor_ids),
        email=normalized, email_hash=hashed, campaign_ids=tuple(sorted(campaign_ids)),
    )


def visitor_data_counts(*, site: Site, subject: Subject) -> dict[str, int]:
    """Rows found per source (every source named, zeros included)."""
    return {source.name: source.rows(site, subject).count() for source in SOURCES}


def visitor_data_collect(*, site: Site, subject: Subject) -> dict:
    """Everything stored for the person on this site: every field of every row, per source."""
    data = {source.name: [_row(row) for row in source.rows(site, subject).order_by("pk")] for source in SOURCES}
    return {
        "format": EXPORT_FORMAT,
        "site": {"id": site.id, "name": site.name},
        "exported_at": timezone.now(),
        "lookup": subject.lookup,
        "email": subject.email or None,
        "visitor_ids": list(subject.visitor_ids),
        "counts": {name: len(rows) for name, rows in data.items()},
        "data": data,
    }


def visitor_data_json(*, export: dict) -> str:
    """The export as JSON text: dates in ISO 8601, ids and amounts as strings where JSON has no type for them."""
    return DjangoJSONEncoder(indent=2, ensure_ascii=False).encode(export)


def visitors_erased(*, site_id: int) -> int:
    """How many visitors' data was erased on a site (their counts stay in the results; one who returns is new)."""
    total = DataRequest.objects.filter(site_id=site_id, action=DataRequest.Action.ERASE).aggregate(n=Sum("visitors"))
    return total["n"] or 0


def _is_text(value: str) -> bool:
    """Storable and hashable: encodes as UTF-8 (no lone surrogate) and holds no control character."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return value.isprintable()


def _row(row: Model) -> dict:
    return {field.attname: getattr(row, field.attname) for field in row._meta.concrete_fields}
