"""The client's address behind trusted proxies: its own rate-limit bucket and ip_hash, a spoofed entry ignored."""

import pytest
from django.core.handlers.wsgi import WSGIHandler

from campaigns.ingest.sender import client_ip
from campaigns.models import Event
from tests.campaigns.events_kit import BROWSER_UA, event, events_url, post_events
from tests.widget.test_collect_fast_path import batch, call, environ_for
from widget.api.fast_path import collect_fast_path

PROXY = "10.0.0.2"  # REMOTE_ADDR: the proxy in front of the app, the same for every visitor


@pytest.mark.parametrize(
    ("proxies", "forwarded", "address"),
    [
        (0, "", PROXY),
        (0, "203.0.113.7", PROXY),
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),
        (1, "6.6.6.6,203.0.113.7", "203.0.113.7"),
        (2, "6.6.6.6, 203.0.113.7, 198.51.100.1", "203.0.113.7"),
        (1, "", PROXY),
        (2, "203.0.113.7", PROXY),
    ],
)
def test_the_client_address_is_the_entry_the_first_trusted_proxy_added(settings, proxies, forwarded, address):
    settings.TRUSTED_PROXY_COUNT = proxies
    meta = {"REMOTE_ADDR": PROXY, **({"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {})}
    assert client_ip(meta) == address


def through_django(client, site, events, forwarded: str) -> int:
    return post_events(client, site, events, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded).status_code


def through_the_fast_path(fast, site, events, forwarded: str) -> int:
    environ = environ_for("POST", events_url(site), batch(*events), REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)
    return call(fast, environ)[0]


def buckets_and_hashes(send, settings, *, proxies: int, first: str, second: str) -> tuple[list[int], bool]:
    """Two visitors' requests, the first visitor over its limit: ([first's statuses, second's status], whether their
    stored events share one ip_hash)."""
    settings.TRUSTED_PROXY_COUNT = proxies
    settings.RATE_LIMIT_CLIENT_PER_MINUTE = 2
    one, two = event("pageview", visitor="v_one"), event("pageview", visitor="v_two")
    statuses = [send([one, event("pageview", visitor="v_one")], first), send([event("pageview")], first)]
    statuses.append(send([two], second))
    hashes = {visitor: set(Event.objects.filter(visitor_id=visitor).values_list("ip_hash", flat=True))
              for visitor in ("v_one", "v_two")}
    return statuses, hashes["v_one"] == hashes["v_two"]


@pytest.fixture(params=["django", "fast path"])
def send(request, transactional_db, client, site):
    """A request through the Django view or the WSGI fast path (which recycles connections: committed data only)."""
    if request.param == "django":
        return lambda events, forwarded: through_django(client, site, events, forwarded)
    fast = collect_fast_path(WSGIHandler())
    return lambda events, forwarded: through_the_fast_path(fast, site, events, forwarded)


def test_behind_one_proxy_two_visitors_get_their_own_rate_limit_and_ip_hash(send, settings):
    statuses, shared = buckets_and_hashes(send, settings, proxies=1, first="203.0.113.7", second="198.51.100.9")
    assert statuses == [202, 429, 202]
    assert not shared


def test_without_trusted_proxies_x_forwarded_for_is_ignored(send, settings):
    statuses, _shared = buckets_and_hashes(send, settings, proxies=0, first="203.0.113.7", second="198.51.100.9")
    assert statuses == [202, 429, 429]  # one address, the proxy's: one bucket
    assert Event.objects.filter(visitor_id="v_two").count() == 0


def test_a_spoofed_left_entry_gives_no_new_bucket_nor_ip_hash(send, settings):
    statuses, _shared = buckets_and_hashes(send, settings, proxies=1, first="6.6.6.6, 203.0.113.7",
                                          second="7.7.7.7, 203.0.113.7")
    assert statuses == [202, 429, 429]


def test_a_nul_in_the_user_agent_is_dropped_not_a_500(client, site):
    consent = event("consent", data={"decision": "granted", "categories": ["necessary"], "policy_version": "1",
                                     "consent_id": "c-1"})
    response = post_events(client, site, [consent], HTTP_USER_AGENT=BROWSER_UA + "\x00x")
    assert response.status_code == 202
    assert Event.objects.get().user_agent == BROWSER_UA + "x"
