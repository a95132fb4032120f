"""A Redis server and a PostgreSQL cluster of a test's own, on spare loopback ports, to stop and start for real:
the shared servers are never touched."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
ERROR_NOT_UP = "{what} did not {state} on port {port}"


def spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_port(*, port: int, what: str, up: bool = True, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port) == up:
            return
        time.sleep(0.05)
    raise AssertionError(ERROR_NOT_UP.format(what=what, state="open" if up else "close", port=port))


class RedisServer:
    """redis-server without persistence: a restart comes back empty, as after a crash."""

    def __init__(self, *, root: Path) -> None:
        self.root = root
        self.port = spare_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        with open(self.root / f"redis-{self.port}.log", "a") as log:
            self.process = subprocess.Popen(
                ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
                 "--daemonize", "no", "--dir", str(self.root)], stdout=log, stderr=subprocess.STDOUT)
        wait_port(port=self.port, what="Redis")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        wait_port(port=self.port, what="Redis", up=False)


class PostgresCluster:
    """initdb in a temp folder, trust authentication on 127.0.0.1. PostgreSQL refuses to run as root: then the
    cluster belongs to the `postgres` user and its commands run as that user."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="rt-outage-pg-"))  # short: the socket path has a length limit
        self.data = self.root / "data"
        self.port = spare_port()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)

    def _run(self, *args: str, check: bool = True) -> None:
        command = [str(POSTGRES_BIN / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=check, capture_output=True)

    def url(self, name: str = "retarget") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def create(self, *, database: str = "retarget") -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", database)

    def start(self) -> None:
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.root} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-o", options, "-w", "start")
        wait_port(port=self.port, what="PostgreSQL")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
        wait_port(port=self.port, what="PostgreSQL", up=False)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
