import json
import uuid

import pytest
from django.db import connection

from campaigns.ingest import body, collect
from campaigns.ingest.sender import ip_truncate
from campaigns.models import ConsentRecord, Event, RejectedEventCount
from campaigns.tally.drain import tally_drain, tally_pending
from campaigns.tasks import refusals_flush
from tests.campaigns.events_kit import ORIGIN, event, events_url, now_ms, post_events
from widget.api import collect as collect_view

DAY_MS = 86_400_000


@pytest.fixture
def variant_a(campaign):
    return campaign.variants.order_by("id").first()


def test_a_valid_batch_is_stored_before_the_202(client, site, campaign, variant_a):
    batch = [event("impression", campaign=campaign, variant=variant_a), event("pageview")]
    response = post_events(client, site, batch)
    assert response.status_code == 202
    assert response.json() == {"accepted": [e["id"] for e in batch], "rejected": []}
    assert set(Event.objects.values_list("type", flat=True)) == {"impression", "pageview"}
    assert tally_pending() == 2
    assert response["Access-Control-Allow-Origin"] == ORIGIN


def test_collect_skips_sessions_but_keeps_the_headers_of_the_whole_middleware_chain(client, site, settings):
    client.cookies["sessionid"] = "whatever"
    response = post_events(client, site, [event("pageview")])
    assert response.status_code == 202
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Length"] == str(len(response.content))
    assert "Cookie" not in response.get("Vary", "")
    assert not response.cookies


def test_collect_refuses_a_host_that_is_not_allowed(client, site, settings):
    settings.ALLOWED_HOSTS = ["collect.example"]
    response = post_events(client, site, [event("pageview")], HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert not Event.objects.exists()


def test_application_json_is_accepted_like_text_plain(client, site, campaign, variant_a):
    response = post_events(client, site, [event("pageview")], content_type="application/json")
    assert response.status_code == 202


def test_a_retried_batch_and_an_id_twice_in_a_batch_are_stored_once(client, site, campaign, variant_a):
    twice = event("impression", campaign=campaign, variant=variant_a)
    batch = [twice, dict(twice), event("close", campaign=campaign, variant=variant_a)]
    first = post_events(client, site, batch)
    retry = post_events(client, site, batch)
    assert first.status_code == retry.status_code == 202
    assert retry.json()["accepted"] == [twice["id"], twice["id"], batch[2]["id"]]
    assert Event.objects.count() == 2
    assert tally_pending() == 2


def test_the_good_events_of_a_mixed_batch_are_kept(client, site, campaign, variant_a, outsider_campaign):
    now = now_ms()
    good = event("impression", campaign=campaign, variant=variant_a)
    batch = [
        good,
        "not an object",
        event("teleport"),
        event("pageview", id="not-a-uuid"),
        event("impression", campaign=outsider_campaign, variant=outsider_campaign.variants.first()),
        event("impression", campaign=campaign, variant=outsider_campaign.variants.first()),
        event("pageview", ts=now + 2 * DAY_MS),
        event("pageview", ts=now - 8 * DAY_MS),
        event("pageview", ts="yesterday"),
        event("impression", campaign=str(campaign.id), variant=variant_a),
        event("pageview", data={"deep": json.loads("[" * 20 + "]" * 20)}),
        event("pageview", data={"text": "x" * (33 * 1024)}),
        event("pageview", data={"nul": "a\x00b"}),
    ]
    response = post_events(client, site, batch)
    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] == [good["id"]]
    assert [(r["index"], r["reason"]) for r in body["rejected"]] == [
        (1, "schema"), (2, "type"), (3, "id"), (4, "campaign"), (5, "variant"), (6, "future"), (7, "too_old"),
        (8, "schema"), (9, "schema"), (10, "too_deep"), (11, "too_large"), (12, "encoding"),
    ]
    assert list(Event.objects.values_list("event_id", flat=True)) == [uuid.UUID(good["id"])]
    counts = dict(RejectedEventCount.objects.filter(site=site).values_list("reason", "count"))
    assert counts["schema"] == 3 and counts["campaign"] == 1 and counts["too_old"] == 1


def test_a_lone_surrogate_is_refused_not_a_500(client, site):
    body = '{"events": [' + json.dumps(event("pageview", data={"x": "y"})).replace('"y"', '"\\ud800"') + "]}"
    response = post_events(client, site, None, body=body)
    assert response.status_code == 202
    assert response.json()["rejected"] == [{"index": 0, "reason": "encoding"}]


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b'{"events": [', 400, body.ERROR_MALFORMED),
        (b'{"events": ["\xff\xfe"]}', 400, body.ERROR_NOT_UTF8),
        (b"[" * 50_000 + b"]" * 10_000, 400, body.ERROR_TOO_DEEP),
        (b'{"events": {"id": 1}}', 400, collect.ERROR_SHAPE),
        (b"[]", 400, collect.ERROR_SHAPE),
        (b"x" * (10 * 1024 * 1024), 413, body.ERROR_TOO_LARGE),
    ],
    ids=["malformed", "not-utf8", "deep-nesting", "events-not-a-list", "not-an-object", "10MB"],
)
def test_a_bad_body_gets_a_4xx_json_answer(client, site, body, status, error):
    response = post_events(client, site, None, body=body)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert not Event.objects.exists()


def test_a_huge_body_is_refused_without_being_read(rf, site):
    class Exploding:
        def read(self, *args):
            raise AssertionError("the body was read")

    request = rf.post(events_url(site), data=b"{}", content_type="text/plain", HTTP_ORIGIN=ORIGIN)
    request.META["CONTENT_LENGTH"] = str(10 * 1024 * 1024)
    request._stream = Exploding()
    assert collect_view.events_collect_api(request, public_key=site.public_key).status_code == 413


def test_more_than_fifty_events_is_refused(client, site):
    response = post_events(client, site, [event("pageview") for _ in range(51)])
    assert response.status_code == 413
    assert response.json()["error"] == collect.ERROR_TOO_MANY


def test_an_unknown_key_is_404(client, site, db):
    response = client.post("/api/w/pk_nope/events", data="{}", content_type="text/plain", HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 404
    assert response.json()["error"] == collect_view.ERROR_UNKNOWN_SITE


@pytest.mark.parametrize("origin", ["https://evil.example", "https://shop.example.evil.example", "null", None])
def test_another_origin_is_403(client, site, origin):
    response = post_events(client, site, [event("pageview")], origin=origin)
    assert response.status_code == 403
    assert not Event.objects.exists()


def test_a_beacon_without_origin_is_checked_by_its_referer(client, site):
    ok = post_events(client, site, [event("pageview")], origin=None, HTTP_REFERER="https://shop.example/cart?x=1")
    bad = post_events(client, site, [event("pageview")], origin=None, HTTP_REFERER="https://evil.example/")
    assert (ok.status_code, bad.status_code) == (202, 403)


def test_the_preflight_is_answered_for_an_allowed_origin_only(client, site):
    url = events_url(site)
    allowed = client.options(url, HTTP_ORIGIN=ORIGIN, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    refused = client.options(url, HTTP_ORIGIN="https://evil.example")
    assert allowed.status_code == 204
    assert allowed["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in allowed["Access-Control-Allow-Methods"]
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused


def test_another_content_type_is_415(client, site):
    response = post_events(client, site, [event("pageview")], content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415


def test_a_client_over_its_rate_limit_gets_429_with_retry_after(client, site, settings):
    settings.RATE_LIMIT_CLIENT_PER_MINUTE = 5
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"
    first = post_events(client, site, [event("pageview") for _ in range(5)], REMOTE_ADDR=address)
    second = post_events(client, site, [event("pageview")], REMOTE_ADDR=address)
    other_client = post_events(client, site, [event("pageview")], REMOTE_ADDR="10.255.255.1")
    assert first.status_code == 202
    assert second.status_code == 429
    assert 1 <= int(second["Retry-After"]) <= 60
    assert other_client.status_code == 202


def test_a_site_over_its_rate_limit_gets_429(client, site, settings):
    settings.RATE_LIMIT_SITE_PER_MINUTE = 3
    assert post_events(client, site, [event("pageview") for _ in range(3)]).status_code == 202
    assert post_events(client, site, [event("pageview")], REMOTE_ADDR="10.9.9.9").status_code == 429


def test_bots_are_counted_and_ignored(client, site):
    googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    response = post_events(client, site, [event("pageview"), event("pageview")], HTTP_USER_AGENT=googlebot)
    assert response.status_code == 202
    assert response.json()["rejected"] == [{"index": 0, "reason": "bot"}, {"index": 1, "reason": "bot"}]
    assert not Event.objects.exists()
    assert RejectedEventCount.objects.get(site=site, reason="bot").count == 2


def test_no_raw_ip_is_stored(client, site, campaign):
    consent = event("consent", data={"decision": "granted", "categories": ["necessary"], "policy_version": "1",
                                     "consent_id": "c-1"}, url="https://shop.example/?email=a@b.c")
    post_events(client, site, [consent, event("pageview")], REMOTE_ADDR="203.0.113.77")
    tally_drain()
    for row in Event.objects.values("ip_hash", "ip_truncated"):
        assert "203.0.113.77" not in json.dumps(row)
        assert len(row["ip_hash"]) == 32
    record = ConsentRecord.objects.get()
    assert (record.ip_truncated, record.url, record.decision) == ("203.0.113.0", "https://shop.example/", "granted")
    assert ip_truncate("2001:db8:abcd:12:1:2:3:4") == "2001:db8:abcd::"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite (the demo) takes a few more statements")
def test_a_batch_costs_at_most_three_queries(client, site, campaign, variant_a, django_assert_max_num_queries):
    post_events(client, site, [event("pageview")])  # warms the site map
    batch = [event("impression", campaign=campaign, variant=variant_a, visitor=f"v_{i}") for i in range(20)]
    batch.append(event("teleport"))
    with django_assert_max_num_queries(3):
        response = post_events(client, site, batch)
    assert response.status_code == 202
    assert len(response.json()["accepted"]) == 20


def test_a_campaign_created_after_the_map_was_cached_is_accepted(client, site, campaign, monkeypatch):
    from tests.conftest import popup_campaign_create

    post_events(client, site, [event("pageview")])  # caches the map without the new campaign
    newer = popup_campaign_create(site=site, name="Newer")
    monkeypatch.setattr("campaigns.ingest.site_map.INGEST_REFRESH_SECONDS", -1)
    response = post_events(client, site, [event("impression", campaign=newer, variant=newer.variants.first())])
    assert response.json()["rejected"] == []


def test_nan_and_infinity_are_refused_not_a_500(client, site):
    # Python's JSON reader accepts NaN and Infinity; PostgreSQL's jsonb and timestamps do not.
    good = event("pageview")
    body = json.dumps({"events": [good, event("pageview", ts=0), event("pageview", data={"v": 1})]})
    body = body.replace('"ts": 0', '"ts": NaN').replace('{"v": 1}', '{"v": Infinity}')
    response = post_events(client, site, None, body=body)
    assert response.status_code == 202
    assert response.json() == {"accepted": [good["id"]], "rejected": [
        {"index": 1, "reason": "schema"}, {"index": 2, "reason": "schema"}]}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="terminates a PostgreSQL backend")
def test_a_batch_is_stored_on_a_new_connection_when_the_old_one_died(transactional_db, client, site):
    import psycopg

    post_events(client, site, [event("pageview")])  # the request's connection is open and kept
    backend = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"}, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [backend])
    response = post_events(client, site, [event("pageview")])
    assert response.status_code == 202
    assert Event.objects.count() == 2


def test_whole_refused_requests_are_counted_for_the_site_owner(client, site, settings):
    settings.RATE_LIMIT_CLIENT_PER_MINUTE = 2
    assert post_events(client, site, [event("pageview")], HTTP_ORIGIN="https://evil.example").status_code == 403
    assert post_events(client, site, None, body=b'{"events": [').status_code == 400
    assert post_events(client, site, None, body=b"x" * (65 * 1024)).status_code == 413
    assert post_events(client, site, [event("pageview") for _ in range(51)]).status_code == 413
    assert post_events(client, site, [event("pageview") for _ in range(2)], REMOTE_ADDR="10.1.2.3").status_code == 202
    assert post_events(client, site, [event("pageview") for _ in range(3)], REMOTE_ADDR="10.1.2.3").status_code == 429
    assert not RejectedEventCount.objects.exists()  # noted in Redis, no database write per refused request

    assert refusals_flush.delay().get() == 1 + 1 + 1 + 51 + 3
    counts = dict(RejectedEventCount.objects.filter(site=site).values_list("reason", "count"))
    assert counts == {
        collect.REFUSED_ORIGIN: 1, collect.REFUSED_MALFORMED: 1, collect.REFUSED_TOO_LARGE: 1,
        collect.REFUSED_TOO_MANY: 51, collect.REFUSED_RATE_LIMITED: 3,
    }
    assert refusals_flush.delay().get() == 0  # moved once
