"""One event's checks (event_check), on the widget's own batches and on any other body, and whole requests with any
bytes in them."""

import json
import time
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.ingest.body import ERROR_NOT_UTF8, json_parse
from campaigns.ingest.checks import DAY_MS, TYPES
from campaigns.ingest.collect import _check_all
from campaigns.ingest.site_map import SiteIngest
from campaigns.models import Event
from tests.campaigns.events_kit import post_events

NOW_MS = int(time.time() * 1000)
INGEST = SiteIngest(site_id=1, allowed_origins=("https://shop.example",),
                    campaigns={5: frozenset({7, 8}), 6: frozenset()}, max_order_value=100_000.0)
MISSING = object()


def widget_batch() -> list[dict]:
    """What the widget sends: page views, then a campaign's impression and close, ids in its canonical form."""
    base = {"ts": NOW_MS, "visitor": "v1", "session": "s1", "url": "https://shop.example/", "data": {}}
    return [
        {"id": str(uuid.uuid4()), "type": "pageview", **base},
        {"id": str(uuid.uuid4()), "type": "impression", "campaign": 5, "variant": 7, **base},
        {"id": str(uuid.uuid4()), "type": "submit", "campaign": 5, "variant": 8, **base,
         "data": {"email": "a@b.example", "answers": [1, "é"]}},
        {"id": str(uuid.uuid4()), "type": "exposure", "campaign": 5, **base},
    ]


def body_of(events: list) -> bytes:
    return json.dumps({"events": events}).encode()


def generic(body: bytes):
    document, error = json_parse(body)
    assert error is None
    return _check_all(document["events"], now_ms=NOW_MS, ingest=INGEST)


def test_the_widgets_own_batches_are_accepted_whole_and_a_duplicate_is_stored_once():
    events = widget_batch()
    events.append(dict(events[0]))  # a duplicate: accepted twice, stored once
    accepted, accepted_ids, rejected = generic(body_of(events))
    assert (accepted_ids, rejected) == ([e["id"] for e in events], [])
    assert len(accepted) == 4
    assert accepted[2].payload_json == '{"email":"a@b.example","answers":[1,"é"]}'


def value(*choices, strategy=None):
    options = st.sampled_from(choices)
    return st.one_of(options, strategy) if strategy is not None else options


# Events in the widget's form: mostly valid, often refused for one reason (each field drawn from its valid values
# most of the time), and now and then in another form (OTHER_FORMS).
def often(valid, *others):
    return st.one_of(valid, valid, valid, value(*others))


@st.composite
def widget_events(draw):
    kind = draw(value(*sorted(TYPES)))
    campaign, variant = (5, 7) if kind in ("impression", "close", "click", "submit") else (MISSING, MISSING)
    return {
        "id": draw(st.uuids().map(str)),
        "type": kind,
        "ts": draw(often(st.integers(NOW_MS - 7 * DAY_MS, NOW_MS + DAY_MS),
                         NOW_MS - 7 * DAY_MS - 1, NOW_MS + DAY_MS + 1)),
        "visitor": draw(often(value("v1", "é"), "", MISSING)),
        "session": draw(value("s1", "", MISSING)),
        "campaign": draw(often(st.just(campaign), 5, 6, 99, None, MISSING)),
        "variant": draw(often(st.just(variant), 7, 8, 9, None, MISSING)),
        "url": draw(value("https://shop.example/", "", "é", "x" * 4096, MISSING)),
        "data": draw(often(value({}, None, {"a": [1, "é"]}, MISSING, *PURCHASES, *HONEYPOTS, *JOURNEYS),
                           {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {}}}}}}}}}, {"big": "x" * 32_740})),
    }


# Purchases: counted (a value from 0 to the site's maximum, or none), or refused for their value (negative, over the
# maximum, not a number); any event type may carry one, only a conversion's is checked.
PURCHASES = [{"name": "purchase", "value": v} for v in (59.9, 0, 100_000, 100_000.0, None, -0.0, -1, -999_999.99,
                                                      100_000.01, 999_999_999.99, 1e308, 10**30, True, "59.9", [1])]
# Form answers: the honeypot empty or absent (kept), or filled in (a submit's is refused).
HONEYPOTS = [{"form": "lead", "email": "a@b.example", "hp": v} for v in ("", None, "http://spam.example", 0, False)]
# Page views' journeys: kept, cleaned (the previous path's query dropped) or dropped (the page view is kept).
JOURNEYS = [{"journey": j} for j in ({"prev": None, "step": 1}, {"prev": "/a?q=1#x", "step": 2}, {"step": 0},
                                     {"prev": "/a", "step": "2"}, {"prev": 5, "step": 2}, [1], None)]
OTHER_FORMS = [("id", None), ("id", "not-a-uuid"), ("type", "bogus"), ("type", 3), ("ts", 1.5), ("ts", True),
               ("ts", None), ("visitor", None), ("visitor", 5), ("visitor", "x" * 65), ("visitor", "a\x00"),
               ("visitor", "\ud800"), ("session", None), ("campaign", True), ("campaign", "5"), ("campaign", 5.0),
               ("variant", False), ("url", None), ("url", "x" * 4097), ("url", "\\u0000"),
               ("data", {"n": float("nan")}), ("data", {"t": "\\u0000"}), ("data", []), ("data", "x")]


@st.composite
def raw_events(draw):
    event = draw(widget_events())
    if draw(st.integers(0, 9)) == 0:  # upper case, or without dashes: event_check normalizes these
        event["id"] = event["id"].upper() if draw(st.booleans()) else event["id"].replace("-", "")
    for key, other in draw(st.lists(st.sampled_from(OTHER_FORMS), max_size=1 if draw(st.integers(0, 3)) == 0 else 0)):
        event[key] = other
    return {key: v for key, v in event.items() if v is not MISSING}


@pytest.mark.parametrize(("value", "reason"), [
    (-999_999.99, "value"), (-1, "value"), ("59.9", "value"), (True, "value"), ({"v": 1}, "value"),
    (999_999_999.99, "value_over_max"), (1e308, "value_over_max"), (100_000.01, "value_over_max"),
    (10**30, "value_over_max"),
])
def test_a_forged_purchase_value_is_refused_with_its_reason(value, reason):
    event = {**widget_batch()[0], "type": "conversion", "data": {"name": "purchase", "value": value}}
    assert generic(body_of([event])) == ([], [], [{"index": 0, "reason": reason}])


@pytest.mark.parametrize("value", [0, 59.9, 100_000, None])
def test_a_purchase_within_the_sites_maximum_is_accepted(value):
    event = {**widget_batch()[0], "type": "conversion", "data": {"name": "purchase", "value": value}}
    accepted, accepted_ids, rejected = generic(body_of([event]))
    assert (accepted_ids, rejected) == ([event["id"]], [])
    assert json.loads(accepted[0].payload_json) == {"name": "purchase", "value": value}


@pytest.mark.parametrize("filled", ["http://spam.example", " ", 0, [], False])
def test_a_submit_with_its_honeypot_filled_in_is_refused(filled):
    event = widget_batch()[2]
    event["data"] = {**event["data"], "hp": filled}
    assert generic(body_of([event])) == ([], [], [{"index": 0, "reason": "form_honeypot"}])


@pytest.mark.parametrize(("journey", "stored"), [
    ({"prev": None, "step": 1}, {"prev": None, "step": 1}),
    ({"prev": "/blog/a", "step": 2}, {"prev": "/blog/a", "step": 2}),
    ({"step": 3}, {"prev": None, "step": 3}),
    ({"prev": "/cart?coupon=ann@example.com#pay", "step": 4, "extra": "x"}, {"prev": "/cart", "step": 4}),
    ({"prev": "/p", "step": 1_000_000}, {"prev": "/p", "step": 1_000_000}),
])
def test_a_page_views_journey_is_kept_as_a_path_and_a_step(journey, stored):
    event = {**widget_batch()[0], "data": {"journey": journey, "segment": {"source": "direct"}}}
    accepted, accepted_ids, rejected = generic(body_of([event]))
    assert (accepted_ids, rejected) == ([event["id"]], [])
    assert json.loads(accepted[0].payload_json) == {"journey": stored, "segment": {"source": "direct"}}


@pytest.mark.parametrize("journey", [
    None, [], "2", {"prev": "/a"}, {"prev": "/a", "step": 0}, {"prev": "/a", "step": -1},
    {"prev": "/a", "step": 1_000_001}, {"prev": "/a", "step": 2.0}, {"prev": "/a", "step": "2"},
    {"prev": "/a", "step": True}, {"prev": 5, "step": 2}, {"prev": "https://elsewhere.example/", "step": 2},
    {"prev": "/" + "x" * 4096, "step": 2},
])
def test_a_bad_journey_is_dropped_and_the_page_view_kept(journey):
    event = {**widget_batch()[0], "data": {"journey": journey, "segment": {"source": "direct"}}}
    accepted, accepted_ids, rejected = generic(body_of([event]))
    assert (accepted_ids, rejected) == ([event["id"]], [])
    assert json.loads(accepted[0].payload_json) == {"segment": {"source": "direct"}}


@pytest.mark.parametrize(("carried", "segment"), [
    ({"sessions": 1, "utm": {"source": "google", "medium": "cpc", "campaign": "may"},
      "referrer": "https://www.google.com/search?q=ann%40example.com"}, {"source": "google/cpc", "returning": False}),
    ({"sessions": 2, "utm": {}, "referrer": "https://Blog.Example/seo?x=1"},
     {"source": "blog.example", "returning": True}),
    ({"sessions": 3, "utm": {}, "referrer": ""}, {"source": "direct", "returning": True}),
    ({"sessions": "2", "utm": "google", "referrer": 5}, {"source": "direct", "returning": False}),
])
def test_a_page_views_segment_is_made_from_its_journey_and_the_referrer_is_not_stored(carried, segment):
    event = {**widget_batch()[0], "data": {"journey": {"prev": "/blog/a", "step": 2, **carried}}}
    accepted, accepted_ids, rejected = generic(body_of([event]))
    assert (accepted_ids, rejected) == ([event["id"]], [])
    assert json.loads(accepted[0].payload_json) == {"journey": {"prev": "/blog/a", "step": 2}, "segment": segment}


def test_a_page_view_that_brings_its_own_segment_keeps_it_and_a_bad_journey_makes_none():
    own = {**widget_batch()[0], "data": {"journey": {"prev": None, "step": 1, "sessions": 2, "referrer": "https://a.example/"},
                                          "segment": {"source": "news", "returning": False}}}
    bad = {**widget_batch()[0], "id": str(uuid.uuid4()), "data": {"journey": {"step": 0, "sessions": 2}}}
    accepted, _ids, rejected = generic(body_of([own, bad]))
    assert rejected == []
    assert [json.loads(row.payload_json) for row in accepted] == [
        {"journey": {"prev": None, "step": 1}, "segment": {"source": "news", "returning": False}}, {}]


def test_only_a_page_view_has_its_journey_checked():
    event = {**widget_batch()[0], "type": "conversion", "data": {"name": "signup", "journey": {"step": "x"}}}
    accepted, _ids, _rejected = generic(body_of([event]))
    assert json.loads(accepted[0].payload_json) == event["data"]


# ---- whole requests: any bytes get a clear answer, and what is stored is what the answer accepted -------------
STORED_FIELDS = ("event_id", "type", "ts", "visitor_id", "session_id", "campaign_id", "variant_id", "url", "payload",
                 "device", "ip_hash", "ip_truncated")
# Bytes that are not UTF-8 (a lone continuation, a truncated sequence, an encoded surrogate, an overlong form), raw
# control characters, JSON's own delimiters and escapes, and valid multi-byte text.
ODD_BYTES = [b"\xff", b"\x80", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\x00", b"\x01", b"\x1f", b"\x7f", b'"', b"\\",
             b"\\u0000", b"\\ud800", b"\\x", b"{", b"]", b",", b"\xc3\xa9", b"\xf0\x9f\x98\x80", b"\xe2\x80\xa8"]
PLACE = b"@@PLACE@@"


@st.composite
def batch_with_bytes(draw) -> bytes:
    """A batch as the widget would send it, with arbitrary bytes in one string (a known field, an unknown one, a key
    in data) or anywhere in the body."""
    events = draw(st.lists(raw_events(), min_size=1, max_size=3))
    inserted = draw(st.lists(st.one_of(st.sampled_from(ODD_BYTES), st.binary(max_size=4)), min_size=1, max_size=3))
    where = draw(st.sampled_from(["url", "visitor", "session", "unknown", "data_key", "data_value", "anywhere"]))
    target = draw(st.integers(0, len(events) - 1))
    if where == "unknown":
        events[target]["note"] = PLACE.decode()
    elif where == "data_key":
        events[target]["data"] = {PLACE.decode(): 1}
    elif where == "data_value":
        events[target]["data"] = {"text": PLACE.decode()}
    elif where != "anywhere":
        events[target][where] = PLACE.decode()
    # Raw UTF-8; a lone surrogate (one of OTHER_FORMS) as the three bytes that are not UTF-8.
    body = json.dumps({"events": events}, ensure_ascii=False).encode("utf-8", "surrogatepass")
    raw = b"".join(inserted)
    if where == "anywhere":
        at = draw(st.integers(0, len(body)))
        return body[:at] + raw + body[at:]
    return body.replace(PLACE, raw)


@pytest.fixture
def real_ids(site):
    """Campaign and variant ids of the site in place of the ids the strategies above use (5, 6, 7, 8)."""
    from tests.conftest import popup_campaign_create

    first, second = popup_campaign_create(site=site), popup_campaign_create(site=site, name="Second")
    a, b = first.variants.order_by("id")
    return {"campaign": {5: first.id, 6: second.id}, "variant": {7: a.id, 8: b.id}}


def with_real_ids(body: bytes, ids: dict) -> bytes:
    for field, mapping in ids.items():
        for placeholder, real in mapping.items():
            body = body.replace(f'"{field}": {placeholder},'.encode(), f'"{field}": {real},'.encode())
            body = body.replace(f'"{field}": {placeholder}}}'.encode(), f'"{field}": {real}}}'.encode())
    return body


def collect_outcome(client, site, body: bytes):
    """(status, answer, stored rows) of one request; the rows are deleted after, for the next example."""
    response = post_events(client, site, None, body=body)
    stored = Event.objects.filter(site=site)
    rows = sorted(stored.values_list(*STORED_FIELDS), key=repr)
    stored.delete()
    return response.status_code, response.json(), rows


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=batch_with_bytes())
def test_any_bytes_in_a_batch_get_a_clear_answer_and_only_accepted_events_are_stored(client, site, real_ids, body):
    status, answer, rows = collect_outcome(client, site, with_real_ids(body, real_ids))
    assert status in (202, 400, 413)
    accepted = set(answer["accepted"]) if status == 202 else set()
    assert {str(row[0]) for row in rows} == accepted


def test_invalid_utf8_in_a_field_the_widget_does_not_send_refuses_the_body(client, site):
    events = widget_batch()[:1]
    events[0]["note"] = PLACE.decode()
    body = json.dumps({"events": events}).encode().replace(PLACE, b"\xff")
    status, answer, rows = collect_outcome(client, site, body)
    assert (status, answer, rows) == (400, {"error": ERROR_NOT_UTF8}, [])
