"""The tally reads events in commit order: an event whose transaction commits late is never skipped.

Two real transactions on two connections (PostgreSQL only): ids are handed out at insert, so the request
that got the lower id may commit last; a cursor kept in id order would already be past it.
"""

import math
import threading
import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from django.db import connection, connections, transaction

from campaigns.ingest.store import EventRow, events_record
from campaigns.selectors.counters import variant_totals
from campaigns.tally import drain as tally
from campaigns.tally import nudge
from tests.campaigns.events_kit import now_ms

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="commit order needs concurrent writers")


@pytest.fixture(autouse=True)
def _drains_by_hand_only(monkeypatch):
    """These tests count what each drain they run returns. Tasks run in-process under the test settings, so the
    nudge after a commit would drain too, or not, depending on whether the previous test's debounce window
    (NUDGE_DEBOUNCE_SECONDS) has ended: the way the nudge sees it when another process's drain is pending."""
    monkeypatch.setattr(nudge, "_nudge_quiet_until", math.inf)


def impression(campaign, visitor: str) -> EventRow:
    variant = campaign.variants.order_by("id").first()
    return EventRow(event_id=str(uuid.uuid4()), type="impression", ts_ms=now_ms(), visitor_id=visitor, session_id="",
                    campaign_id=campaign.id, variant_id=variant.id, url="", payload_json="{}")


def store(site, events: list[EventRow]) -> None:
    events_record(site_id=site.id, events=events, received_at=datetime.now(UTC), device="desktop", ip_hash="",
                  ip_truncated="", user_agent="")


def test_an_event_committed_after_a_later_one_is_counted_once(transactional_db, site, campaign):
    stored, release, finished = threading.Event(), threading.Event(), threading.Event()

    def slow_request():
        try:
            with transaction.atomic():
                store(site, [impression(campaign, "early-id-late-commit")])
                stored.set()
                release.wait(10)
        finally:
            connections.close_all()
            finished.set()

    writer = threading.Thread(target=slow_request)
    writer.start()
    assert stored.wait(10)
    store(site, [impression(campaign, "later-id-early-commit")])  # a higher id, committed first

    assert tally.tally_pending() == 1  # the committed one; the other is not visible yet
    assert tally.tally_drain() == 0  # the open transaction holds the horizon back: nothing passes it
    release.set()
    assert finished.wait(10)
    writer.join()

    assert tally.tally_drain() == 2
    assert tally.tally_drain() == 0
    variant = campaign.variants.order_by("id").first()
    assert variant_totals(campaign_id=campaign.id)[variant.id]["impression_visitors"] == 2


def test_a_batch_counted_then_rolled_back_is_counted_again(transactional_db, site, campaign):
    store(site, [impression(campaign, f"v{i}") for i in range(3)])
    with pytest.raises(RuntimeError), transaction.atomic():
        assert tally.tally_batch() == 3
        raise RuntimeError("the worker died before its commit")
    assert tally.tally_pending() == 3
    assert tally.tally_drain() == 3
    variant = campaign.variants.order_by("id").first()
    assert variant_totals(campaign_id=campaign.id)[variant.id]["impressions"] == 3


def open_transaction_with_an_id(dbname: str):
    """A transaction on its own connection, holding a transaction id until rolled back."""
    settings = connection.settings_dict
    other = psycopg.connect(dbname=dbname, host=settings["HOST"], port=settings["PORT"] or 5432,
                            user=settings["USER"], password=settings["PASSWORD"] or None)
    other.execute("SELECT pg_current_xact_id()")
    return other


def test_a_transaction_left_open_in_another_database_does_not_hold_the_tally_back(transactional_db, site, campaign):
    elsewhere = open_transaction_with_an_id("postgres")
    try:
        store(site, [impression(campaign, f"v{i}") for i in range(2)])
        assert tally.tally_drain() == 2
    finally:
        elsewhere.rollback()
        elsewhere.close()


def test_a_transaction_left_open_in_this_database_holds_back_only_what_came_after_it(transactional_db, site,
                                                                                     campaign):
    store(site, [impression(campaign, "before")])
    here = open_transaction_with_an_id(connection.settings_dict["NAME"])
    try:
        store(site, [impression(campaign, "after")])
        assert tally.tally_drain() == 1  # "after" may still have a transaction committing before it
    finally:
        here.rollback()
        here.close()
    assert tally.tally_drain() == 1
