"""The collect writer: one process per web server that stores the batches of concurrent collect requests together.

Why: a collect request that talks to Redis (its rate limits) and to PostgreSQL (its insert and commit) on its
own pays two round trips, a statement and a commit for twenty rows, and its web workers contend for the same
index pages. Here the web worker checks the batch, hands it over a Unix socket and waits; the writer takes
whatever requests arrived while it was busy, counts all their rate limits in one Redis round trip, stores all
their events in one statement and one commit, and answers each request. "A 202 means the events are in
PostgreSQL" still holds: a request is answered "stored" only after that commit.

Nothing depends on it being up. A web worker that cannot reach it (not started, restarting, too slow) does
the work itself (campaigns/ingest/collect.py); events are idempotent by id, so a batch the writer stored before its
answer was lost is stored once.

Started by gunicorn (retarget/gunicorn.conf.py) with `manage.py collect_writer`; the web workers find it at
settings.COLLECT_WRITER_SOCKET.

Wire format, both ways big-endian: a request is `!II` (header length, batch length), the header (JSON:
[[[rate-limit key, limit], ...], cost]) and the batch (events_batch_json's bytes, empty for none); an answer
is `!Bi` (STORED, LIMITED, FAILED or UNAVAILABLE; seconds to wait when LIMITED).

An outage does not end the writer: while the database or Redis cannot be reached it answers UNAVAILABLE (the web worker
answers 503, nothing stored) and stores again once they are back; what runs after a commit (the tally's nudge) catches
its own failures, so a request whose events were committed is always answered STORED and never stored twice.
"""

import logging
import os
import selectors
import signal
import socket
import struct
import threading
import time
from typing import NamedTuple

import msgspec
from django.conf import settings
from django.db import DatabaseError

from campaigns.ingest.body import MAX_WRITER_FRAME_BYTES
from campaigns.ingest.rate_limits import Limit, rate_limits_hit
from campaigns.ingest.store import events_record_batches
from campaigns.outages import DATABASE_ERRORS, REDIS_ERRORS

logger = logging.getLogger(__name__)

# FAILED: the web worker stores the request itself; UNAVAILABLE: the database or Redis is out, the request gets 503.
STORED, LIMITED, FAILED, UNAVAILABLE = 0, 1, 2, 3
_REQUEST_HEAD = struct.Struct("!II")
_ANSWER = struct.Struct("!Bi")
# A group stops growing here; the requests after it form the next group.
MAX_GROUP_REQUESTS = 64
# A web worker waits this long for an answer, then stores the batch itself.
ANSWER_TIMEOUT_SECONDS = 5.0
# After failing to reach the writer, a web worker stores by itself for this long before trying again.
RECONNECT_AFTER_SECONDS = 1.0

_header = msgspec.json.Decoder(tuple[list[tuple[str, int]], int])


class Answer(NamedTuple):
    status: int
    retry_after: int


# ---- the web worker's side ----------------------------------------------------------------------------------

class _Client(threading.local):
    """Per thread (a sync worker has one; a threaded server many): its connection, and when to try again."""

    sock: socket.socket | None = None
    quiet_until: float = 0.0


_client = _Client()


def writer_submit(*, limits: list[Limit], cost: int, batch: bytes) -> Answer | None:
    """Hand a request's rate limits and events (events_batch_json, or b"" for none) to the writer.

    None when the writer is not configured or could not answer: the caller then does the work itself.
    """
    path = settings.COLLECT_WRITER_SOCKET
    if not path or time.monotonic() < _client.quiet_until:
        return None
    header = msgspec.json.encode(([(limit.key, limit.limit) for limit in limits], cost))
    try:
        if _client.sock is None:
            _client.sock = _connect(path)
        _client.sock.sendall(_REQUEST_HEAD.pack(len(header), len(batch)) + header + batch)
        return Answer(*_ANSWER.unpack(_receive(_client.sock, _ANSWER.size)))
    except OSError as error:
        logger.warning("collect writer unreachable at %s (%s): storing in the web worker", path, error)
        if _client.sock is not None:
            _client.sock.close()
            _client.sock = None
        _client.quiet_until = time.monotonic() + RECONNECT_AFTER_SECONDS
        return None


def _connect(path: str) -> socket.socket:
    """A blocking socket whose sends and receives give up after ANSWER_TIMEOUT_SECONDS.

    The kernel keeps the time limit (SO_SNDTIMEO, SO_RCVTIMEO): a socket with a Python timeout would poll before
    each send and receive, two more system calls on every collect request.
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    seconds = int(ANSWER_TIMEOUT_SECONDS)
    limit = struct.pack("ll", seconds, int((ANSWER_TIMEOUT_SECONDS - seconds) * 1e6))
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, limit)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, limit)
        sock.connect(path)
    except OSError:
        sock.close()
        raise
    return sock


def _receive(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionResetError("the collect writer closed the connection")
        data += chunk
    return data


# ---- the writer's side --------------------------------------------------------------------------------------


class _Request(NamedTuple):
    sock: socket.socket
    limits: list[Limit]
    cost: int
    batch: bytes


def _frames(buffer: bytearray) -> list[tuple[bytes, bytes]]:
    """Complete (header, batch) frames cut from the front of buffer; a partial frame stays in it."""
    frames = []
    while len(buffer) >= _REQUEST_HEAD.size:
        header_size, batch_size = _REQUEST_HEAD.unpack_from(buffer)
        end = _REQUEST_HEAD.size + header_size + batch_size
        if header_size + batch_size > MAX_WRITER_FRAME_BYTES:
            raise ValueError("frame too large")
        if len(buffer) < end:
            break
        frames.append((bytes(buffer[_REQUEST_HEAD.size:_REQUEST_HEAD.size + header_size]),
                       bytes(buffer[_REQUEST_HEAD.size + header_size:end])))
        del buffer[:end]
    return frames


def writer_serve(*, path: str, parent: int | None = None) -> None:
    """Serve until SIGTERM or SIGINT, or until `parent` (the process id of whoever started the writer; by default
    its parent now) is no longer its parent: read what the web workers sent, store it a group at a time, answer."""
    if os.path.exists(path):
        os.unlink(path)  # left by a writer that was killed
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1024)
    listener.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    buffers: dict[socket.socket, bytearray] = {}
    stopping = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.append(True))
    logger.info("collect writer listening on %s", path)
    parent = os.getppid() if parent is None else parent
    try:
        # Ends with the process that started it (gunicorn's master), however that ended, even before this point: a
        # writer left behind would hold its socket and connections for nothing.
        while not stopping and os.getppid() == parent:
            pending = _wait(selector, listener, buffers, timeout=1.0)
            for start in range(0, len(pending), MAX_GROUP_REQUESTS):
                _group_store(pending[start:start + MAX_GROUP_REQUESTS])
    finally:
        for sock in buffers:
            sock.close()
        listener.close()
        if os.path.exists(path):
            os.unlink(path)
        logger.info("collect writer stopped")


def _wait(selector, listener, buffers, *, timeout: float) -> list[_Request]:
    """The requests that arrive within timeout (or are there already); new connections accepted meanwhile."""
    pending: list[_Request] = []
    for key, _mask in selector.select(timeout=timeout):
        if key.fileobj is listener:
            _accept(listener, selector, buffers)
        else:
            pending += _read(key.fileobj, selector, buffers)
    return pending


def _accept(listener, selector, buffers) -> None:
    while True:
        try:
            sock, _address = listener.accept()
        except BlockingIOError:
            return
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
        buffers[sock] = bytearray()


def _read(sock, selector, buffers) -> list[_Request]:
    buffer = buffers[sock]
    try:
        while chunk := sock.recv(1 << 16):
            buffer += chunk
        closed = True  # recv gave b"": the web worker went away
    except BlockingIOError:
        closed = False
    except OSError:
        closed = True
    requests = []
    try:
        for header, batch in _frames(buffer):
            limits, cost = _header.decode(header)
            requests.append(_Request(sock, [Limit(key=k, limit=n) for k, n in limits], cost, batch))
    except (ValueError, msgspec.DecodeError):
        logger.warning("collect writer: a malformed frame; closing that connection")
        closed, requests = True, []
    if closed:
        selector.unregister(sock)
        del buffers[sock]
        sock.close()
    return requests


def _group_store(group: list[_Request]) -> None:
    """Rate limits of the whole group in one round trip; the events of those within them in one commit."""
    try:
        retry_afters = rate_limits_hit(requests=[(request.limits, request.cost) for request in group])
    except REDIS_ERRORS as error:
        logger.warning("collect writer: Redis unreachable (%s); %s requests answered unavailable", error, len(group))
        _answer(group, {}, default=Answer(UNAVAILABLE, 0))
        return
    answers = {id(request): Answer(LIMITED, retry_after) for request, retry_after in zip(group, retry_afters,
                                                                                             strict=True)
               if retry_after is not None}
    storing = [request for request in group if id(request) not in answers and request.batch]
    try:
        if storing:
            events_record_batches(batches=[request.batch for request in storing])
    except DATABASE_ERRORS as error:
        # The database is out (or the connection died mid-commit): a 503, and the widget sends the same ids again.
        logger.warning("collect writer: the database is unreachable (%s); %s requests answered unavailable", error,
                       len(storing))
        answers.update({id(request): Answer(UNAVAILABLE, 0) for request in storing})
    except DatabaseError:
        # One request's events refused by the database must not fail the others': each on its own.
        logger.exception("collect writer: a group failed; storing its requests one by one")
        for request in storing:
            try:
                events_record_batches(batches=[request.batch])
            except DATABASE_ERRORS:
                answers[id(request)] = Answer(UNAVAILABLE, 0)
            except DatabaseError:
                logger.exception("collect writer: a request's events could not be stored")
                answers[id(request)] = Answer(FAILED, 0)
    _answer(group, answers, default=Answer(STORED, 0))


def _answer(group: list[_Request], answers: dict[int, Answer], *, default: Answer) -> None:
    for request in group:
        answer = answers.get(id(request), default)
        try:
            request.sock.sendall(_ANSWER.pack(*answer))
        except OSError:
            pass  # that web worker gave up waiting; it stores the batch itself (idempotent by id)
