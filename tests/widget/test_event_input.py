"""The widget's own form, read and checked without per-field Python, answers exactly as event_check does."""

import json
import time
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.selectors_events import SiteIngest
from widget.api.body import json_parse
from widget.api.event_input import DAY_MS, TYPES, events_check_widget, events_read_widget
from widget.api.events import _check_all

NOW_MS = int(time.time() * 1000)
INGEST = SiteIngest(site_id=1, allowed_origins=("https://shop.example",),
                    campaigns={5: frozenset({7, 8}), 6: frozenset()})
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
        "data": draw(often(value({}, None, {"a": [1, "é"]}, MISSING),
                           {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {}}}}}}}}}, {"big": "x" * 32_740})),
    }


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
