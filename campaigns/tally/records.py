"""What both folds of the tally write, defined once: the counters each event and step adds to, the revenue a
purchase carries, and the records kept after the raw events expire (responses and consent proof)."""

from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit, urlunsplit

from campaigns.assignment import is_finite_number
from campaigns.models import Assignment, ConsentRecord, FunnelStep, Response, VariantDailyStats
from campaigns.pseudonyms import email_hash, visitor_hash

MAX_REVENUE = Decimal("1000000000")
CENT = Decimal("0.01")
TC_STRING_MAX = 10_000  # a TCF string naming many vendors runs to a few kilobytes
Step = FunnelStep.Step
STEP_FIELD = Assignment.STEPS  # a step on the visitor's assigned variant: the Assignment field that holds it
STEP_COUNTER = {
    Step.IMPRESSION: "impression_visitors",
    Step.ENGAGED: "engaged_visitors",
    Step.SUBMIT: "submit_visitors",
    Step.CONVERTED: "converters",
    Step.MIXED: "mixed_visitors",
}
EVENT_COUNTER = {"impression": "impressions", "close": "closes", "click": "clicks", "submit": "submits"}
COUNTERS = VariantDailyStats.COUNTERS


def revenue_capped(amount: Decimal, *, cap: Decimal | None) -> Decimal:
    """A visitor's revenue as results count it: at most the campaign's cap (none: all of it)."""
    return amount if cap is None else min(amount, cap)


def revenue_of(payload) -> Decimal | None:
    """A purchase's value in cents (half to even), or None when it is not a finite number below MAX_REVENUE."""
    value = payload.get("value") if isinstance(payload, dict) else None
    if not is_finite_number(value):
        return None
    try:
        amount = Decimal(str(value)).quantize(CENT)
    except InvalidOperation:
        return None
    return amount if abs(amount) < MAX_REVENUE else None


def _text(value, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def response_of(e: dict) -> Response | None:
    """The Response a submit event keeps (unsaved), or None when its form is unknown."""
    data = e["payload"] if isinstance(e["payload"], dict) else {}
    form = data.get("form")
    if form not in Response.Form.values:
        return None
    score = data.get("score")
    choices = data.get("choices")
    consent = data.get("consent")
    email = _text(data.get("email"), 254)
    return Response(
        site_id=e["site_id"],
        event_id=e["event_id"],
        campaign_id=e["campaign_id"],
        variant_id=e["variant_id"],
        visitor_id=e["visitor_id"],
        form=form,
        score=score if isinstance(score, int) and not isinstance(score, bool) and 0 <= score <= 10 else None,
        followup=_text(data.get("followup"), 5000),
        choices=[c[:200] for c in choices[:50] if isinstance(c, str)] if isinstance(choices, list) else [],
        text=_text(data.get("text"), 5000),
        email=email if "@" in email else "",
        email_hash=email_hash(email=email) if "@" in email else "",
        name=_text(data.get("name"), 200),
        marketing_consent=consent if isinstance(consent, bool) else None,
        created_at=e["ts"],
        received_at=e["received_at"],
        ip_hash=e["ip_hash"],
    )


def url_without_query(url: str) -> str:
    """For consent proof: the page, not what its query string may say about the visitor."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def consent_of(e: dict) -> ConsentRecord | None:
    """The ConsentRecord a consent event keeps (unsaved), or None when its decision is unknown."""
    data = e["payload"] if isinstance(e["payload"], dict) else {}
    decision = data.get("decision")
    if decision not in ConsentRecord.Decision.values:
        return None
    categories = data.get("categories")
    return ConsentRecord(
        site_id=e["site_id"],
        event_id=e["event_id"],
        consent_id=_text(data.get("consent_id"), 64) or str(e["event_id"]),
        decided_at=e["ts"],
        received_at=e["received_at"],
        policy_version=_text(data.get("policy_version"), 40),
        categories=[c[:64] for c in categories[:20] if isinstance(c, str)] if isinstance(categories, list) else [],
        decision=decision,
        ip_truncated=e["ip_truncated"],
        user_agent=e["user_agent"],
        url=url_without_query(e["url"]),
        visitor_hash=visitor_hash(visitor_id=e["visitor_id"]),
        tc_string=_text(data.get("tc_string"), TC_STRING_MAX),
    )
