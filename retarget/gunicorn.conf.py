"""gunicorn settings for the web service: `gunicorn -c retarget/gunicorn.conf.py retarget.wsgi --bind ...`.

Used by deploy/Procfile (docker-compose and `make prod`), the Dockerfile and the benchmarks. Beside the sync
workers it runs the collect writer (campaigns/ingest/writer.py), which stores the batches of concurrent collect
requests in one commit, and starts it again should it exit. Web workers store on their own whenever it is not there
(COLLECT_WRITER_SOCKET="" turns it off; it is off on any database but PostgreSQL).
"""

import gc
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# Sync workers, six per core unless WEB_CONCURRENCY (or --workers) says otherwise: a collect request mostly waits
# for the writer's commit, not on the CPU, and more requests waiting together make the writer's groups larger and
# cheaper, up to where its commit chain is the limit (`bench/collect_bench.py --web-workers N` compares counts;
# docs/bench-notes.md).
workers = int(os.environ.get("WEB_CONCURRENCY") or 6 * (os.cpu_count() or 1))
worker_class = "sync"

# gunicorn's control socket (for `gunicornc`) sits by default at one path per user ($XDG_RUNTIME_DIR/gunicorn.ctl or
# ~/.gunicorn/gunicorn.ctl): a second instance under the same user takes it over, and removes it when it stops. Off,
# unless GUNICORN_CONTROL_SOCKET names this instance's own path.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True

if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
    os.environ["COLLECT_WRITER_SOCKET"] = ""
# Set before the workers are forked, so their settings (read after the fork) find the writer.
os.environ.setdefault("COLLECT_WRITER_SOCKET",
                      str(Path(tempfile.gettempdir()) / f"retarget-collect-{os.getpid()}.sock"))

_writer: dict = {"pid": None, "stopping": False}


def _writer_gone(pid: int) -> bool:
    """Whether the writer has exited. gunicorn's master reaps every child that exits (waitpid(-1)), so the writer
    may be gone before we look: then waitpid finds no such child."""
    try:
        done, _status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done == pid


def _writer_supervise(server, path: str) -> None:
    command = [sys.executable, str(BASE_DIR / "manage.py"), "collect_writer", "--socket", path,
               "--parent", str(os.getpid())]
    while not _writer["stopping"]:
        # posix_spawn, not subprocess: subprocess waits on a pipe that workers forked meanwhile by the master's main
        # thread would hold open, and the wait would last as long as they live.
        pid = os.posix_spawn(sys.executable, command, os.environ)
        _writer["pid"] = pid
        while not _writer["stopping"] and not _writer_gone(pid):
            time.sleep(0.5)
        if _writer["stopping"]:
            return
        server.log.warning("collect writer (pid %s) exited; starting it again (web workers store alone meanwhile)",
                           pid)
        time.sleep(1)


def on_starting(server) -> None:
    path = os.environ["COLLECT_WRITER_SOCKET"]
    if path:
        threading.Thread(target=_writer_supervise, args=(server, path), name="collect-writer", daemon=True).start()


def on_exit(server) -> None:
    _writer["stopping"] = True
    pid = _writer["pid"]
    if pid is None or _writer_gone(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while not _writer_gone(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.1)


def post_worker_init(worker) -> None:
    # What the worker loaded (Django, the app, its modules) lives as long as the worker: frozen, a full collection no
    # longer walks it, which otherwise added tens of milliseconds to about one journey map page in nine.
    gc.collect()
    gc.freeze()
