"""The widget's own form, read and checked without per-field Python, answers exactly as event_check does."""

import json
import time
import uuid
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.ingest import collect
from campaigns.ingest.body import ERROR_NOT_UTF8, json_parse
from campaigns.ingest.checks import DAY_MS, TYPES, events_check_widget, events_read_widget
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


def test_the_widgets_own_batches_take_the_typed_path_and_are_accepted_as_event_check_accepts_them():
    events = widget_batch()
    events.append(dict(events[0]))  # a duplicate: accepted twice, stored once
    body = body_of(events)
    checked = events_check_widget(events_read_widget(body), now_ms=NOW_MS, ingest=INGEST)
    assert checked is not None
    assert generic(body) == (*checked, [])
    accepted, accepted_ids = checked
    assert accepted_ids == [e["id"] for e in events]
    assert len(accepted) == 4
    assert accepted[2].payload_json == '{"email":"a@b.example","answers":[1,"é"]}'


def test_any_other_form_is_left_to_event_check():
    assert events_read_widget(b'{"events": [{"id": 1}]}') is None
    assert events_read_widget(b"not json") is None
    nul = widget_batch()
    nul[0]["url"] = "https://shop.example/\x00"
    assert events_read_widget(body_of(nul)) is None
    unknown = widget_batch()
    unknown[1]["campaign"] = 99
    assert events_check_widget(events_read_widget(body_of(unknown)), now_ms=NOW_MS, ingest=INGEST) is None


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
        "data": draw(often(value({}, None, {"a": [1, "é"]}, MISSING, *PURCHASES, *HONEYPOTS),
                           {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {}}}}}}}}}, {"big": "x" * 32_740})),
    }


# Purchases: counted (a value from 0 to the site's maximum, or none), or refused for their value (negative, over the
# maximum, not a number); any event type may carry one, only a conversion's is checked.
PURCHASES = [{"name": "purchase", "value": v} for v in (59.9, 0, 100_000, 100_000.0, None, -0.0, -1, -999_999.99,
                                                      100_000.01, 999_999_999.99, 1e308, 10**30, True, "59.9", [1])]
# Form answers: the honeypot empty or absent (kept), or filled in (a submit's is refused).
HONEYPOTS = [{"form": "lead", "email": "a@b.example", "hp": v} for v in ("", None, "http://spam.example", 0, False)]
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


@settings(max_examples=1000, deadline=None)
@given(events=st.lists(often(raw_events(), None, [], "x"), max_size=3), repeat=st.booleans())
def test_whenever_the_typed_path_accepts_a_batch_event_check_accepts_it_the_same(events, repeat):
    if repeat and events:
        events.append(events[0])
    body = body_of(events)
    read = events_read_widget(body)
    checked = None if read is None else events_check_widget(read, now_ms=NOW_MS, ingest=INGEST)
    if checked is not None:
        assert generic(body) == (*checked, [])


@pytest.mark.parametrize(("value", "reason"), [
    (-999_999.99, "value"), (-1, "value"), ("59.9", "value"), (True, "value"), ({"v": 1}, "value"),
    (999_999_999.99, "value_over_max"), (1e308, "value_over_max"), (100_000.01, "value_over_max"),
    (10**30, "value_over_max"),
])
def test_a_forged_purchase_value_is_refused_both_ways_with_its_reason(value, reason):
    event = {**widget_batch()[0], "type": "conversion", "data": {"name": "purchase", "value": value}}
    body = body_of([event])
    read = events_read_widget(body)
    assert read is None or events_check_widget(read, now_ms=NOW_MS, ingest=INGEST) is None
    assert generic(body) == ([], [], [{"index": 0, "reason": reason}])


@pytest.mark.parametrize("value", [0, 59.9, 100_000, None])
def test_a_purchase_within_the_sites_maximum_is_accepted_both_ways(value):
    event = {**widget_batch()[0], "type": "conversion", "data": {"name": "purchase", "value": value}}
    body = body_of([event])
    checked = events_check_widget(events_read_widget(body), now_ms=NOW_MS, ingest=INGEST)
    assert checked is not None and generic(body) == (*checked, [])


@pytest.mark.parametrize("filled", ["http://spam.example", " ", 0, [], False])
def test_a_submit_with_its_honeypot_filled_in_is_refused_both_ways(filled):
    event = widget_batch()[2]
    event["data"] = {**event["data"], "hp": filled}
    body = body_of([event])
    read = events_read_widget(body)
    assert read is None or events_check_widget(read, now_ms=NOW_MS, ingest=INGEST) is None
    assert generic(body) == ([], [], [{"index": 0, "reason": "form_honeypot"}])


# ---- whole requests: both ways through the collect endpoint give the same answer and store the same rows -------
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
    """(status, answer, stored rows) of one request; the rows are deleted after, for the other way's request."""
    response = post_events(client, site, None, body=body)
    stored = Event.objects.filter(site=site)
    rows = sorted(stored.values_list(*STORED_FIELDS), key=repr)
    stored.delete()
    return response.status_code, response.json(), rows


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=batch_with_bytes())
def test_any_bytes_in_a_batch_get_the_same_answer_and_rows_whichever_way_the_endpoint_reads_it(client, site,
                                                                                                real_ids, body):
    body = with_real_ids(body, real_ids)
    either_way = collect_outcome(client, site, body)
    with mock.patch.object(collect, "events_read_widget", lambda _body: None):  # every body as any JSON
        generic_way = collect_outcome(client, site, body)
    assert either_way == generic_way
    assert either_way[0] in (202, 400, 413)


def test_invalid_utf8_in_a_field_the_widget_does_not_send_refuses_the_body_both_ways(client, site):
    events = widget_batch()[:1]
    events[0]["note"] = PLACE.decode()
    body = json.dumps({"events": events}).encode().replace(PLACE, b"\xff")
    assert events_read_widget(body) is None
    status, answer, rows = collect_outcome(client, site, body)
    assert (status, answer, rows) == (400, {"error": ERROR_NOT_UTF8}, [])
