"""What the fault tests share: shops seeded through the services, a widget-like load, the checks made after each
fault (every 202 stored, counters equal to the accepted events, 503 + Retry-After only during the outage, no
process exited, readiness)."""

import http.client
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from campaigns.models import Event, VariantDailyStats
from scripts.prod import BASE_DIR, Stack

ORIGIN = "https://shop.example"
BROWSER_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
)
VISITORS_PER_BATCH = 4
# One visitor's page views, impression and close, as the widget sends them (bench/collect_bench.py's mix).
VISITOR_KINDS = ("pageview", "pageview", "pageview", "impression", "close")
RECOVERY_SECONDS = 30

SEED = """
import json, sys
import django
django.setup()
from django.contrib.auth import get_user_model
from campaigns import services
owner, _ = get_user_model().objects.get_or_create(username="faults", defaults={"is_staff": True})
shops = {}
for name in sys.argv[1:]:
    site = services.site_create(owner=owner, name=name, allowed_origins=["https://shop.example"])
    campaign = services.campaign_create(
        site=site, name="Popup " + name, message_type="popup", status="active",
        triggers=[{"type": "page_load", "delay": 0}],
        variants=[{"name": "A", "weight": 50, "content": {"headline": "A"}},
                  {"name": "B", "weight": 50, "content": {"headline": "B"}}])
    shops[name] = {"key": site.public_key, "site": site.id, "campaign": campaign.id,
                   "variants": list(campaign.variants.order_by("id").values_list("id", flat=True))}
print(json.dumps(shops))
"""


@dataclass(frozen=True)
class Shop:
    key: str
    site: int
    campaign: int
    variants: list[int]


def shops_seed(*, stack: Stack, names: list[str]) -> dict[str, Shop]:
    """One site with one active two-variant popup per name, created by the services in the stack's database."""
    result = subprocess.run([sys.executable, "-c", SEED, *names], cwd=BASE_DIR, env=stack.env, check=True,
                            capture_output=True, text=True)
    return {name: Shop(**fields) for name, fields in json.loads(result.stdout.strip().splitlines()[-1]).items()}


@dataclass
class Answer:
    at: float
    status: int  # 0: no HTTP answer at all
    retry_after: str | None
    body: str


@dataclass
class Load:
    """A few threads posting widget-shaped batches through the proxy, as the widget does: a batch not answered 202
    is kept and sent again later with the same event ids (the server keeps each id once)."""

    stack: Stack
    shop: Shop
    threads: int = 3
    pause: float = 0.05
    answers: list[Answer] = field(default_factory=list)
    events: dict[str, dict] = field(default_factory=dict)
    accepted: set[str] = field(default_factory=set)
    rejected: list = field(default_factory=list)
    pending: list[list[dict]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []

    def batch(self) -> list[dict]:
        events = []
        now = int(time.time() * 1000)
        for _ in range(VISITORS_PER_BATCH):
            visitor = "v" + uuid.uuid4().hex[:16]
            variant = self.shop.variants[int(visitor[1:], 16) % len(self.shop.variants)]
            for kind in VISITOR_KINDS:
                event = {"id": str(uuid.uuid4()), "type": kind, "ts": now, "visitor": visitor, "session": "s1",
                         "url": "https://shop.example/product/1", "data": {}}
                if kind != "pageview":
                    event |= {"campaign": self.shop.campaign, "variant": variant}
                events.append(event)
        with self._lock:
            self.events.update((event["id"], event) for event in events)
        return events

    def send(self, events: list[dict]) -> Answer:
        body = json.dumps({"events": events}).encode()
        connection = http.client.HTTPConnection("127.0.0.1", self.stack.http_port, timeout=60)
        try:
            connection.request("POST", f"/api/w/{self.shop.key}/events", body=body, headers={
                "Host": "localhost", "Content-Type": "text/plain", "Origin": ORIGIN, "User-Agent": BROWSER_UA})
            response = connection.getresponse()
            answer = Answer(time.time(), response.status, response.getheader("Retry-After"),
                            response.read().decode(errors="replace"))
        except OSError as error:
            answer = Answer(time.time(), 0, None, repr(error))
        finally:
            connection.close()
        with self._lock:
            self.answers.append(answer)
            if answer.status == 202:
                reply = json.loads(answer.body)
                self.accepted.update(reply["accepted"])
                self.rejected.extend(reply["rejected"])
            else:
                self.pending.append(events)
        return answer

    def _run(self) -> None:
        while not self._stop.is_set():
            self.send(self.batch())
            self._stop.wait(self.pause)

    def start(self) -> "Load":
        self._workers = [threading.Thread(target=self._run, daemon=True) for _ in range(self.threads)]
        for worker in self._workers:
            worker.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=90)

    def resend_pending(self, *, timeout: float = RECOVERY_SECONDS) -> None:
        """What the widget does once the service is back: every batch not answered 202 is sent again."""
        deadline = time.monotonic() + timeout
        while self.pending and time.monotonic() < deadline:
            with self._lock:
                batches, self.pending = self.pending, []
            for events in batches:
                self.send(events)
            if self.pending:
                time.sleep(1)

    def expected_counters(self) -> dict[str, int]:
        accepted = [self.events[event_id] for event_id in self.accepted]
        return {
            "impressions": sum(1 for e in accepted if e["type"] == "impression"),
            "closes": sum(1 for e in accepted if e["type"] == "close"),
            "impression_visitors": len({e["visitor"] for e in accepted if e["type"] == "impression"}),
        }


def db_query(stack: Stack, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(stack.env["DATABASE_URL"], connect_timeout=5, autocommit=True) as connection:
        return connection.execute(sql, params).fetchall()


def stored_ids(stack: Stack, shop: Shop) -> set[str]:
    rows = db_query(stack, f"SELECT event_id FROM {Event._meta.db_table} WHERE site_id = %s", (shop.site,))
    return {str(row[0]) for row in rows}


def counters(stack: Stack, shop: Shop) -> dict[str, int]:
    row = db_query(stack, f"SELECT coalesce(sum(impressions), 0), coalesce(sum(closes), 0), "
                          f"coalesce(sum(impression_visitors), 0) FROM {VariantDailyStats._meta.db_table} "
                          f"WHERE campaign_id = %s", (shop.campaign,))[0]
    return {"impressions": int(row[0]), "closes": int(row[1]), "impression_visitors": int(row[2])}


def counters_settled(stack: Stack, shop: Shop, *, expected: dict, timeout: float = 60) -> dict[str, int]:
    """The counters once they equal `expected`, or as they are after `timeout` (beat drains every 5 s)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = counters(stack, shop)
        except psycopg.OperationalError:
            found = {}
        if found == expected or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def get(stack: Stack, path: str, *, timeout: float = 10) -> tuple[int, dict]:
    request = urllib.request.Request(stack.url(path), headers={"Host": "localhost", "Origin": ORIGIN,
                                                               "User-Agent": BROWSER_UA})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)
    except OSError:
        return 0, {}


def readiness(stack: Stack) -> int:
    """/readyz's status through the proxy."""
    status, _ = get(stack, "/readyz")
    return status


def ready_again(stack: Stack, *, timeout: float = RECOVERY_SECONDS) -> int:
    """/readyz's status once it is 200, or its last one after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        status = readiness(stack)
        if status == 200 or time.monotonic() > deadline:
            return status
        time.sleep(0.5)


def children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(child) for child in (task / "children").read_text().split()]
    except FileNotFoundError:
        pass
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except FileNotFoundError:
        return ""


def writer_pid(stack: Stack) -> int | None:
    """The collect writer, a child of gunicorn's master."""
    found = [pid for pid in children(stack.processes["web"].pid) if "collect_writer" in cmdline(pid)]
    return found[0] if found else None


def wait_for(condition, *, timeout: float, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(interval)
    return condition()


@dataclass
class Outage:
    """When the fault began and when the service came back (None for faults the stack must not notice)."""

    began: float | None = None
    ended: float | None = None


def processes(stack: Stack) -> dict[str, int | tuple[int, ...] | None]:
    """The pid of every process of the stack, including those its processes start again on their own (gunicorn's
    collect writer, the Celery worker's pool), so that an exit shows even when it was made good."""
    return {
        **{name: process.pid for name, process in stack.processes.items()},
        "writer": writer_pid(stack),
        "worker pool": tuple(sorted(children(stack.processes["worker"].pid))),
    }


def assert_recovered(*, stack: Stack, load: Load, shop: Shop, outage: Outage, before: dict,
                     killed: str | None = None, readiness_seen: tuple[int | None, int | None] = (None, None)) -> None:
    """The checks made after every fault, all of them, so that a failure lists every property that broke.

    `before`: processes() when the test began; `killed`: the one of them the test killed on purpose.
    `readiness_seen`: /readyz during the outage and after the service's return (None: not asked, or no /readyz)."""
    problems = []
    answers = list(load.answers)
    statuses = sorted({answer.status for answer in answers})
    if 0 in statuses:
        problems.append("a request got no HTTP answer from the proxy")
    if set(statuses) - {0, 202, 503}:
        counts = {status: sum(1 for a in answers if a.status == status) for status in statuses}
        problems.append(f"answers other than 202 and 503 (status: requests): {counts}")
    unavailable = [answer for answer in answers if answer.status == 503]
    if not all(answer.retry_after for answer in unavailable):
        problems.append("a 503 without Retry-After")
    if outage.began is None and unavailable:
        problems.append(f"{len(unavailable)} answers 503 with no outage")
    if outage.began is not None and not all(
            outage.began <= answer.at <= outage.ended + RECOVERY_SECONDS for answer in unavailable):
        problems.append("503s outside the outage and its recovery")
    during, after = readiness_seen
    if outage.began is not None and during is not None and (during, after) != (503, 200):
        problems.append(f"/readyz was {during} during the outage and {after} {RECOVERY_SECONDS} s after")

    load.resend_pending()
    if load.pending:
        problems.append(f"{len(load.pending)} batches still refused after the recovery")
    if load.rejected:
        problems.append(f"events rejected: {load.rejected[:3]}")
    never = set(load.events) - load.accepted
    if never:
        problems.append(f"{len(never)} events never accepted")
    try:
        stored = stored_ids(stack, shop)
    except psycopg.OperationalError as error:
        stored = set()
        problems.append(f"the database does not answer: {error}")
    if load.accepted - stored:
        problems.append(f"{len(load.accepted - stored)} accepted (202) events not stored")
    if stored - load.accepted:
        problems.append(f"{len(stored - load.accepted)} events stored that were never accepted")
    expected = load.expected_counters()
    found = counters_settled(stack, shop, expected=expected)
    if found != expected:
        problems.append(f"counters {found} instead of {expected}")

    if not all(stack.alive().values()):
        problems.append(f"processes not running: {stack.alive()}")
    now = processes(stack)
    if now["writer"] is None:
        problems.append("gunicorn's collect writer is not running")
    replaced = {name: (pid, now[name]) for name, pid in before.items() if name != killed and now[name] != pid}
    if replaced:
        problems.append(f"processes exited and were started again (before, now): {replaced}")
    assert not problems, "\n".join(problems)
