"""Event ids: PostgreSQL's CPU per stored collect request with random ids (UUID version 4) against time-ordered
ids (version 7, what the widget makes: widget/src/core/util.js), in one run on one table; and, with time-ordered ids,
the plain INSERT the collect writer tries first against the form that skips stored ids (ON CONFLICT DO NOTHING),
and that INSERT prepared (as the writer runs it) against parsed and planned on every call.
Prints figures, asserts nothing.

Each round stores GROUPS groups of GROUP_REQUESTS requests of 20 events with each kind of id, the way the collect
writer does (events_record_batches: one statement and one commit per group), and reads the CPU the PostgreSQL
backend spent from /proc (PostgreSQL runs on this machine). The table grows from round to round: random ids land
at random places of the unique (site, event id) index, time-ordered ones at its end.
Needs PostgreSQL at 127.0.0.1:5432. Creates and drops the database `retarget_bench_ids`.
Usage: python bench/event_ids_bench.py [--rounds 3]
"""

import argparse
import math
import os
import secrets
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import database_drop, database_fresh, environment  # noqa: E402

DB_NAME = "retarget_bench_ids"
GROUPS, GROUP_REQUESTS, BATCH = 400, 6, 20


def uuid7() -> str:
    """The widget's form: the time in ms, version 7, variant 10, random bits."""
    raw = bytearray(int(time.time() * 1000).to_bytes(6, "big") + secrets.token_bytes(10))
    raw[6] = (raw[6] & 0x0F) | 0x70
    raw[8] = (raw[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(raw)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    env = environment(db_name=DB_NAME)
    database_fresh(db_name=DB_NAME, env=env)
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, transaction

    from campaigns.ingest import store as events
    from campaigns.tally import nudge

    nudge._nudge_quiet_until = math.inf  # only the inserts are measured: no tally drain in this backend

    def group(make_id) -> list[bytes]:
        now_ms = int(time.time() * 1000)
        return [
            events.events_batch_json(
                site_id=1, received_at=datetime.now(UTC), device="desktop", ip_hash="ab" * 16, ip_truncated="",
                user_agent="Mozilla/5.0",
                events=[events.EventRow(make_id(), "pageview", now_ms, f"v_{secrets.token_hex(10)}",
                                        f"s_{secrets.token_hex(10)}", None, None, "https://shop.example/", "{}")
                        for _ in range(BATCH)],
            )
            for _ in range(GROUP_REQUESTS)
        ]

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]

        def backend_cpu() -> float:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        def per_request_ms(make_id, *, plain_first: bool = False, prepared: bool = True) -> float:
            """In a transaction the insert skips stored ids (ON CONFLICT); outside one, as the collect writer runs
            it, it is a plain INSERT first (plain_first). Prepared unless `prepared` is False (DB_PREPARED_STATEMENTS
            off: parsed and planned on every call)."""
            groups = [group(make_id) for _ in range(GROUPS)]
            settings.DB_PREPARED_STATEMENTS = prepared
            before = backend_cpu()
            for batches in groups:
                if plain_first:
                    events.events_record_batches(batches=batches)
                else:
                    with transaction.atomic():
                        events.events_record_batches(batches=batches)
            return (backend_cpu() - before) / (GROUPS * GROUP_REQUESTS) * 1000

        print(f"PostgreSQL CPU per stored request ({BATCH} events, groups of {GROUP_REQUESTS} requests), "
              "random (v4) against time-ordered (v7) event ids, one table growing")
        for round_ in range(1, args.rounds + 1):
            random_ms, ordered_ms = per_request_ms(lambda: str(uuid.uuid4())), per_request_ms(uuid7)
            plain_ms = per_request_ms(uuid7, plain_first=True)
            unprepared_ms = per_request_ms(uuid7, plain_first=True, prepared=False)
            rows = events.Event.objects.count()
            print(f"  round {round_}: random {random_ms:.3f} ms, time-ordered {ordered_ms:.3f} ms, "
                  f"ratio {ordered_ms / random_ms:.2f}; time-ordered by a plain INSERT (the writer's first try) "
                  f"{plain_ms:.3f} ms, ratio to ON CONFLICT {plain_ms / ordered_ms:.2f}; the plain INSERT not "
                  f"prepared {unprepared_ms:.3f} ms, prepared/not {plain_ms / unprepared_ms:.2f}  "
                  f"(table now {rows:,} events)")
    finally:
        connection.close()
        database_drop(db_name=DB_NAME)


if __name__ == "__main__":
    main()
