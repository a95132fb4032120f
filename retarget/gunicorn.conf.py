"""gunicorn settings for the web service: `gunicorn -c retarget/gunicorn.conf.py retarget.wsgi --workers N ...`.

Used by docker-compose, the Dockerfile and the benchmarks. Beside the sync workers it runs the collect writer
(widget/writer.py), which stores the batches of concurrent collect requests in one commit, and starts it
again should it exit. Web workers store on their own whenever it is not there (COLLECT_WRITER_SOCKET="" turns
it off; it is off on any database but PostgreSQL).
"""

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
    os.environ["COLLECT_WRITER_SOCKET"] = ""
# Set before the workers are forked, so their settings (read after the fork) find the writer.
os.environ.setdefault("COLLECT_WRITER_SOCKET",
                      str(Path(tempfile.gettempdir()) / f"retarget-collect-{os.getpid()}.sock"))

_writer: dict = {"process": None, "stopping": False}


def _writer_supervise(server, path: str) -> None:
    while not _writer["stopping"]:
        process = subprocess.Popen([sys.executable, str(BASE_DIR / "manage.py"), "collect_writer", "--socket", path],
                                   cwd=BASE_DIR)
        _writer["process"] = process
        code = process.wait()
        if _writer["stopping"]:
            return
        server.log.warning("collect writer exited with %s; starting it again (web workers store alone meanwhile)",
                           code)
        time.sleep(1)


def on_starting(server) -> None:
    path = os.environ["COLLECT_WRITER_SOCKET"]
    if path:
        threading.Thread(target=_writer_supervise, args=(server, path), name="collect-writer", daemon=True).start()


def on_exit(server) -> None:
    _writer["stopping"] = True
    process = _writer["process"]
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
