"""Faults under load against `make prod`'s processes: after each, every 202 is stored, the counters equal the accepted
events, nothing answered but 202 and (during an outage) 503 with Retry-After, no process exited, and /readyz is 503
during an outage and 200 within 30 s after it."""

import os
import signal
import socket
import threading
import time

import psycopg
import pytest

from campaigns.tally.lock import LOCK_NAMESPACE, LOCK_TALLY
from tests.faults.kit import (
    RECOVERY_SECONDS,
    Load,
    Outage,
    assert_recovered,
    children,
    get,
    processes,
    readiness,
    ready_again,
    wait_for,
    writer_pid,
)

pytestmark = pytest.mark.faults

SLOW_CLIENTS = 24
SLOW_PATH = "/slow-header-client"
SLOW_BYTE_EVERY_SECONDS = 3.0
# Longer than the proxy's client_header_timeout (10 s, deploy/nginx/retarget.conf.template).
SLOW_SECONDS = 16


def slow_header_client(*, port: int, dropped: list, index: int, stop: threading.Event) -> None:
    """Sends a request's headers one byte every few seconds; notes when the other end closes the connection."""
    request = f"GET {SLOW_PATH} HTTP/1.1\r\nHost: localhost\r\nX-Padding: {'a' * 64}\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.settimeout(SLOW_BYTE_EVERY_SECONDS)
        for position in range(len(request)):
            if stop.is_set():
                return
            try:
                sock.sendall(request[position : position + 1])
                if sock.recv(1024) == b"":
                    dropped[index] = True
                    return
            except TimeoutError:
                continue  # nothing from the proxy yet: the next byte
            except OSError:
                dropped[index] = True
                return
            dropped[index] = True  # the proxy answered (a 408) before the headers were complete
            return


def test_slow_header_clients_never_reach_gunicorn_and_config_requests_are_answered(stack, shops):
    shop, before = shops["slow"], processes(stack)
    dropped = [False] * SLOW_CLIENTS
    stop = threading.Event()
    clients = [threading.Thread(target=slow_header_client,
                                kwargs={"port": stack.http_port, "dropped": dropped, "index": i, "stop": stop})
               for i in range(SLOW_CLIENTS)]
    for client in clients:
        client.start()
    statuses = []
    deadline = time.monotonic() + SLOW_SECONDS
    while time.monotonic() < deadline:
        statuses.append(get(stack, f"/api/w/{shop.key}/config", timeout=10)[0])
        time.sleep(0.25)
    stop.set()
    for client in clients:
        client.join(timeout=10)

    assert statuses and set(statuses) == {200}, statuses
    assert all(dropped), f"{dropped.count(False)} slow clients still connected to the proxy"
    assert SLOW_PATH not in (stack.log_dir / "web.log").read_text(), "a slow client's request reached gunicorn"
    assert processes(stack) == before


def test_the_collect_writer_killed_under_load_loses_nothing(stack, shops):
    shop, before = shops["writer"], processes(stack)
    load = Load(stack=stack, shop=shop).start()
    time.sleep(2)
    killed = writer_pid(stack)
    assert killed is not None
    os.kill(killed, signal.SIGKILL)
    restarted = wait_for(lambda: (pid := writer_pid(stack)) not in (None, killed) and pid, timeout=15)
    time.sleep(2)
    load.stop()

    assert restarted, "gunicorn did not start its collect writer again"
    assert_recovered(stack=stack, load=load, shop=shop, outage=Outage(), before=before, killed="writer")


def tally_holder(connection: psycopg.Connection) -> int | None:
    """The backend that holds the tally's lock: a batch is being counted."""
    row = connection.execute(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objid = %s AND granted",
        (LOCK_NAMESPACE, LOCK_TALLY)).fetchone()
    return row[0] if row else None


def test_the_worker_killed_mid_tally_counts_everything_once_after(stack, shops):
    shop, before = shops["worker"], processes(stack)
    pool = wait_for(lambda: children(stack.processes["worker"].pid), timeout=20)
    assert len(pool) == 1
    load = Load(stack=stack, shop=shop).start()
    # A backlog, so that the batch the worker is killed in is a long one.
    os.kill(pool[0], signal.SIGSTOP)
    time.sleep(6)
    with psycopg.connect(stack.env["DATABASE_URL"], autocommit=True) as connection:
        os.kill(pool[0], signal.SIGCONT)
        holder = wait_for(lambda: tally_holder(connection), timeout=20, interval=0.002)
        os.kill(pool[0], signal.SIGKILL)
    time.sleep(2)
    load.stop()

    assert holder, "the tally never ran"
    assert_recovered(stack=stack, load=load, shop=shop, outage=Outage(), before=before, killed="worker pool")


def outage_under_load(*, stack, shop, stop, start, ask_after: float, down_for: float) -> None:
    """Widget-shaped load; a service stopped, /readyz asked `ask_after` s later, the service back after `down_for` s;
    then every check of assert_recovered, /readyz 503 during and 200 within RECOVERY_SECONDS after included."""
    before = processes(stack)
    load = Load(stack=stack, shop=shop).start()
    time.sleep(3)
    outage = Outage(began=time.time())
    stop()
    time.sleep(ask_after)
    during = readiness(stack)
    time.sleep(down_for - ask_after)
    start()
    outage.ended = time.time()
    after = ready_again(stack, timeout=RECOVERY_SECONDS)
    time.sleep(3)
    load.stop()

    assert_recovered(stack=stack, load=load, shop=shop, outage=outage, before=before,
                     readiness_seen=(during, after))


def test_redis_restarted_and_flushed_under_load(stack, shops, redis):
    def start_empty() -> None:
        redis.start()
        redis.flush()

    outage_under_load(stack=stack, shop=shops["redis"], stop=redis.stop, start=start_empty, ask_after=1, down_for=4)


def test_postgres_stopped_for_20_seconds_under_load(stack, shops, postgres):
    outage_under_load(stack=stack, shop=shops["postgres"], stop=postgres.stop, start=postgres.start, ask_after=2,
                      down_for=20)
