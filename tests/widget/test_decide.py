"""POST /api/w/<key>/decide and the admin's "why not shown?" preview: the Python evaluator on a real site."""

import json

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.rules import ERROR_CONTEXT_SHAPE
from tests.conftest import popup_campaign_create

pytestmark = pytest.mark.django_db


def decide(client, site, context, **headers):
    return client.post(
        f"/api/w/{site.public_key}/decide", json.dumps({"context": context}), content_type="text/plain", **headers
    )


@pytest.fixture
def blog_campaign(site):
    return popup_campaign_create(
        site=site, name="Blog only", targeting={"attr": "path", "op": "starts_with", "value": "/blog/"}
    )


def test_decide_arms_a_campaign_whose_rules_match(client, site, blog_campaign):
    response = decide(client, site, {"url": "https://shop.example/blog/a", "visitor": {"id": "v1"}})
    assert response.status_code == 200
    [entry] = response.json()["campaigns"]
    assert entry["armed"] is True
    assert entry["variant_name"] in ("A", "B")


def test_decide_names_the_rule_that_excluded_a_campaign(client, site, blog_campaign):
    [entry] = decide(client, site, {"url": "https://shop.example/shop/", "visitor": {"id": "v1"}}).json()["campaigns"]
    assert entry["armed"] is False
    assert entry["reason"] == "targeting"
    assert entry["path"] == "targeting"


def test_decide_refuses_a_body_without_context(client, site):
    response = client.post(f"/api/w/{site.public_key}/decide", "[]", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "context must be an object"


def test_decide_refuses_malformed_json(client, site):
    response = client.post(f"/api/w/{site.public_key}/decide", "{nope", content_type="text/plain")
    assert response.status_code == 400
    assert response.json()["error"] == "body is not valid JSON"


def test_decide_on_an_unknown_key_is_404(client):
    assert client.post("/api/w/pk_nope/decide", "{}", content_type="text/plain").status_code == 404


def test_preview_lists_every_campaign_with_why_it_is_not_shown(client, owner, site, blog_campaign):
    paused = popup_campaign_create(site=site, name="Paused one", status="paused")
    client.force_login(owner)
    response = client.post(
        reverse("admin:campaigns_site_preview", args=[site.id]), {"url": "/shop/", "context": ""}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert f'data-campaign="{blog_campaign.id}" data-armed="no"' in body
    assert "<code>targeting</code>" in body
    assert f'data-campaign="{paused.id}" data-armed="no"' in body
    assert "Not active (paused)" in body


def test_preview_accepts_a_pasted_visitor_context(client, owner, site):
    campaign = popup_campaign_create(site=site, name="Pros", targeting={"attr": "attrs.plan", "op": "equals",
                                                                         "value": "pro"})
    client.force_login(owner)
    context = json.dumps({"visitor": {"id": "v9", "attrs": {"plan": "pro"}}})
    body = client.post(reverse("admin:campaigns_site_preview", args=[site.id]),
                       {"url": "/", "context": context}).content.decode()
    assert f'data-campaign="{campaign.id}" data-armed="yes"' in body


def test_preview_of_another_owners_site_is_404(client, owner, outsider_site):
    client.force_login(owner)
    assert client.get(reverse("admin:campaigns_site_preview", args=[outsider_site.id])).status_code == 404


# ---- any context: a JSON answer, 200 for the contract's shape, 400 for a field of the wrong type -----------------
# The contract's shape (docs/contracts.md), written out here rather than read from the code: "str", "num", "time"
# (epoch ms), "id" (a string or a number), "any"; {field: shape} an object of those fields; {"*": shape} an object of
# any keys; [shape] an array. Every field is optional and may be null; items and values may not.
UTM = {"source": "str", "medium": "str", "campaign": "str"}
HISTORY = {"impressions": ["num"], "closes": ["num"], "conversions": ["num"], "sessions": ["str"]}
VISITOR = {
    "id": "str", "first_seen": "num", "sessions": "num", "session_id": "str", "session_start": "num",
    "pageviews_session": "num", "pageviews_total": "num", "visited": ["str"],
    "first_touch": {"referrer": "str", "utm": UTM}, "utm": UTM, "attrs": {"*": "any"},
    "cart": {"value": "num", "items": [{"id": "id", "qty": "num", "price": "num"}]},
    "history": {"*": HISTORY}, "overlays": ["num"], "overlays_session": "num", "events": ["str"],
}
CONTEXT = {"now": "time", "url": "str", "referrer": "str", "device": "str", "language": "str", "consent": "str",
           "cookies": {"*": "str"}, "visitor": VISITOR}
MAX_TIME_MS = 253_400_000_000_000

texts = st.one_of(st.sampled_from(["", "/blog/a", "https://shop.example/blog/a?utm_source=g&x=%E9", "google", "1",
                                   "granted", "v1", "s1", "purchase", "pro"]), st.text(max_size=8))
numbers = st.one_of(st.integers(-(2**63), 2**63), st.floats(-1e300, 1e300, allow_nan=False),
                    st.sampled_from([0, 1, 2, 1_767_225_600_000]))
json_values = st.recursive(st.none() | st.booleans() | numbers | texts,
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
                           max_leaves=6)
SCALARS = {
    "str": texts, "num": numbers, "id": st.one_of(texts, numbers), "any": json_values,
    "time": st.one_of(st.integers(0, MAX_TIME_MS), st.sampled_from([0, MAX_TIME_MS, 1_767_225_600_000])),
}
# For each shape, values of another type: what a client gets wrong.
NOT_TEXT = st.one_of(numbers, st.booleans(), st.lists(texts, max_size=2), st.dictionaries(texts, texts, max_size=2))
NOT_NUMBER = st.one_of(texts, st.booleans(), st.lists(numbers, max_size=2), st.dictionaries(texts, numbers, max_size=2),
                       st.sampled_from([float("nan"), float("inf"), -float("inf"), 10**400]))
WRONG = {
    "str": NOT_TEXT, "num": NOT_NUMBER, "id": st.one_of(st.booleans(), st.lists(texts, max_size=2)),
    "time": st.one_of(NOT_NUMBER, st.sampled_from([-1, MAX_TIME_MS + 1, 1e300])),
    "object": st.one_of(texts, numbers, st.booleans(), st.lists(texts, max_size=2)),
    "array": st.one_of(texts, numbers, st.booleans(), st.dictionaries(texts, texts, max_size=2)),
    "item": st.none(),
}


def valid(shape, *, nullable: bool = True):
    """Values of a shape; null for a field (the same as missing), never for an array's item or an object's value."""
    if isinstance(shape, str):
        values = SCALARS[shape]
    elif isinstance(shape, list):
        values = st.lists(valid(shape[0], nullable=False), max_size=3)
    elif "*" in shape:
        values = st.dictionaries(texts, valid(shape["*"], nullable=False), max_size=3)
    else:
        values = st.fixed_dictionaries({}, optional={key: valid(inner) for key, inner in shape.items()})
    return st.one_of(st.none(), values) if nullable and shape != "any" else values


@st.composite
def wrong_at_one_place(draw):
    """A context of the contract's shape with one value of another type, somewhere; with its path."""
    context = draw(st.fixed_dictionaries({}, optional={key: valid(inner) for key, inner in CONTEXT.items()}))
    node, shape, path = context, CONTEXT, []
    while True:
        if isinstance(shape, list):
            key, inner = 0, shape[0]
        elif "*" in shape:
            key, inner = draw(texts), shape["*"]
        else:
            key = draw(st.sampled_from(sorted(k for k, v in shape.items() if v != "any")))
            inner = shape[key]
        path.append(key)
        stop = isinstance(inner, str) or inner == {"*": "any"} or draw(st.booleans())
        if stop:
            kind = inner if isinstance(inner, str) else "array" if isinstance(inner, list) else "object"
            in_collection = isinstance(shape, list) or "*" in shape
            value = draw(WRONG["item" if in_collection and draw(st.booleans()) else kind])
        else:
            value = [] if isinstance(inner, list) else {}
        if isinstance(node, list):
            node.append(value)
            child = node[-1]
        else:
            current = node.get(key)
            keep = not stop and isinstance(current, list if isinstance(inner, list) else dict)
            node[key] = current if keep else value
            child = node[key]
        if stop:
            return context, path
        node, shape = child, inner


@pytest.fixture
def site_of_every_check(site):
    """Campaigns whose targeting reads every attribute of the context, and whose frequency reads the history."""
    site.kept_query_params = [*site.kept_query_params, "x"]  # a rule may only name a parameter the site keeps
    site.save()
    leaves = [
        {"attr": "url", "op": "contains", "value": "x"}, {"attr": "path", "op": "equals", "value": "/a"},
        {"attr": "referrer_host", "op": "equals", "value": "g.example"}, {"attr": "device", "op": "equals",
                                                                           "value": "mobile"},
        {"attr": "language", "op": "starts_with", "value": "fr"}, {"attr": "returning", "op": "is_true"},
        {"attr": "sessions", "op": "gt", "value": 3}, {"attr": "pageviews_session", "op": "gte", "value": 2},
        {"attr": "pageviews_total", "op": "lt", "value": 1}, {"attr": "visited", "op": "contains", "value": "/b",
                                                             "min_count": 2},
        {"attr": "days_since_first_visit", "op": "gt", "value": 7}, {"attr": "cart.value", "op": "gt", "value": 50},
        {"attr": "cart.count", "op": "gte", "value": 2}, {"attr": "cart.products", "op": "includes", "value": "sku"},
        {"attr": "weekday", "op": "in", "value": [5, 6]}, {"attr": "hour", "op": "between", "value": [9, 17]},
        {"attr": "query.x", "op": "exists"}, {"attr": "utm.source", "op": "equals", "value": "google"},
        {"attr": "first.referrer", "op": "contains", "value": "g"}, {"attr": "first.utm.medium", "op": "equals",
                                                                   "value": "cpc"},
        {"attr": "attrs.plan", "op": "equals", "value": "pro"}, {"attr": "cookie.seen", "op": "not_exists"},
        {"attr": "campaign.1.seen", "op": "gt", "value": 0}, {"attr": "referrer", "op": "regex", "value": "^https"},
    ]
    popup_campaign_create(site=site, name="Every attribute", targeting={"any": leaves})
    popup_campaign_create(site=site, name="Every frequency rule", frequency={
        "max_impressions": 3, "min_gap_seconds": 60, "once_per_session": True, "stop_after_close": True,
        "stop_after_conversion": True, "cancel_on": ["purchase"]})
    return site


def post_context(client, site, context):
    body = json.dumps({"context": context})  # NaN and Infinity as Python writes them: the endpoint reads them too
    return client.post(f"/api/w/{site.public_key}/decide", body, content_type="text/plain")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(context=valid(CONTEXT).filter(lambda c: c is not None))
def test_any_context_of_the_contracts_shape_gets_a_decision(client, site_of_every_check, context):
    response = post_context(client, site_of_every_check, context)
    assert response.status_code == 200, response.content
    assert len(response.json()["campaigns"]) == 2


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=wrong_at_one_place())
def test_a_field_of_the_wrong_type_anywhere_in_the_context_is_a_json_400(client, site_of_every_check, case):
    context, path = case
    response = post_context(client, site_of_every_check, context)
    assert response.status_code == 400, (path, response.content)
    assert response.json()["error"] == ERROR_CONTEXT_SHAPE


@pytest.mark.parametrize("visitor", [
    "v1", [], 3, {"history": []}, {"history": {"12": "x"}}, {"history": {"12": {"impressions": "x"}}},
    {"overlays": 5}, {"overlays": ["x"]}, {"overlays_session": "2"}, {"cart": []}, {"cart": {"items": {}}},
    {"visited": "/a"}, {"first_touch": "x"}, {"utm": []}, {"attrs": "x"}, {"events": "purchase"},
])
def test_the_known_cases_of_a_wrong_visitor_are_a_400_naming_the_field(client, site_of_every_check, visitor):
    response = post_context(client, site_of_every_check, {"visitor": visitor})
    assert response.status_code == 400
    assert response.json()["error"] == ERROR_CONTEXT_SHAPE
    assert "$.visitor" in response.json()["detail"]


# The context as the widget builds it (widget/src/core/state.js _context, printed by retarget('debug')): the contract's
# fields beside the visitor's other stored ones.
WIDGET_CONTEXT = {
    "now": 1767225600000, "url": "https://shop.example/blog/a?utm_source=google", "referrer": "", "device": "desktop",
    "language": "fr-FR", "consent": "unknown", "cookies": {"_ga": "GA1.1"},
    "visitor": {
        "id": "v_abc", "first_seen": 1767000000000, "sessions": 1, "pv": 1, "visited": ["/blog/a"],
        "session": {"id": "s_x", "start": 1767225000000, "pv": 1, "time": 0, "last": 1767225600000},
        "first_touch": {"referrer": "", "utm": {"source": "google", "term": "shoes"}}, "utm": {"source": "google"},
        "attrs": {"plan": "pro", "seats": 3, "tags": ["a"]}, "cart": None,
        "history": {"12": {"impressions": [1767225000000], "closes": [], "conversions": [], "sessions": ["s_x"]}},
        "overlays": [1767225000000], "events": [], "variants": {"12": 0}, "exposed": {},
        "session_id": "s_x", "session_start": 1767225000000, "pageviews_session": 1, "pageviews_total": 1,
        "overlays_session": 1,
    },
}


def test_the_widgets_own_context_is_decided_by_the_endpoint_and_the_preview(client, owner, site_of_every_check):
    assert post_context(client, site_of_every_check, WIDGET_CONTEXT).status_code == 200
    client.force_login(owner)
    body = client.post(reverse("admin:campaigns_site_preview", args=[site_of_every_check.id]),
                       {"url": "/", "context": json.dumps(WIDGET_CONTEXT)}).content.decode()
    assert "wrong type" not in body
    assert body.count("data-campaign=") == 2


def test_the_preview_names_a_field_of_the_wrong_type_instead_of_failing(client, owner, site_of_every_check):
    client.force_login(owner)
    context = {**WIDGET_CONTEXT, "visitor": {**WIDGET_CONTEXT["visitor"], "overlays": "yesterday"}}
    response = client.post(reverse("admin:campaigns_site_preview", args=[site_of_every_check.id]),
                           {"url": "/", "context": json.dumps(context)})
    assert response.status_code == 200
    body = response.content.decode()
    assert "The visitor context has a field of the wrong type" in body
    assert "$.visitor.overlays" in body
    assert "data-campaign=" not in body
