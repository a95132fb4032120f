"""How accepted events are stored: every id once, whichever form of the insert ran (campaigns/ingest/store.py)."""

import uuid
from contextlib import contextmanager

import pytest
from django.db import connection, transaction

from campaigns.ingest.store import events_record_batches
from campaigns.models import Event
from tests.campaigns.events_kit import batch_of, stored_rows

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the grouped insert is PostgreSQL's")


def stored(site) -> list[uuid.UUID]:
    return list(Event.objects.filter(site=site).values_list("event_id", flat=True))


@contextmanager
def inserts():
    """The forms of the events insert that run inside the block, in order: 'plain' or 'skipping'."""
    forms: list[str] = []

    def record(execute, sql, params, many, context):
        if sql.lstrip().startswith(f"INSERT INTO {Event._meta.db_table}"):
            forms.append("skipping" if "ON CONFLICT" in sql else "plain")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield forms


def test_new_events_are_stored_by_the_plain_insert_alone(transactional_db, site):
    with inserts() as forms:
        assert events_record_batches(batches=[batch_of(site, stored_rows(20)), batch_of(site, stored_rows(20))]) == 40
    assert forms == ["plain"]
    assert len(stored(site)) == 40


def test_a_group_with_an_id_stored_before_stores_the_others_once(transactional_db, site):
    first = stored_rows(5)
    events_record_batches(batches=[batch_of(site, first)])
    retried = [first[2], *stored_rows(2)]  # a client's retry of an event stored before, with new ones beside it
    fresh = stored_rows(3)
    with inserts() as forms:
        assert events_record_batches(batches=[batch_of(site, fresh), batch_of(site, retried)]) == 5
    assert forms == ["plain", "skipping"]
    assert sorted(stored(site)) == sorted(uuid.UUID(r.event_id) for r in [*first, *fresh, *retried[1:]])


def test_two_requests_of_a_group_with_the_same_event_store_it_once(transactional_db, site):
    shared = stored_rows(1)
    assert events_record_batches(batches=[batch_of(site, shared + stored_rows(1)), batch_of(site, shared)]) == 2
    assert len(stored(site)) == 2


def test_inside_a_transaction_a_stored_id_is_skipped_and_the_transaction_goes_on(transactional_db, site):
    first = stored_rows(3)
    with transaction.atomic():
        events_record_batches(batches=[batch_of(site, first)])
        with inserts() as forms:
            assert events_record_batches(batches=[batch_of(site, first + stored_rows(1))]) == 1
        assert forms == ["skipping"]
        assert len(stored(site)) == 4  # the transaction was not aborted
    assert len(stored(site)) == 4


def test_the_insert_is_prepared_once_per_connection_and_no_other_query_is(transactional_db, site, settings):
    settings.DB_PREPARED_STATEMENTS = True
    for _ in range(3):
        events_record_batches(batches=[batch_of(site, stored_rows(2))])
        assert Event.objects.filter(site=site).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert len(prepared) == 1
    assert prepared[0].lstrip().startswith(f"INSERT INTO {Event._meta.db_table}")
