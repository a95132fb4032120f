"""`make prod`: the processes of docker-compose.yml, from deploy/Procfile, on this machine.

The same commands as the containers (nginx with deploy/nginx/retarget.conf.template in front, gunicorn with its
collect writer, a Celery worker and beat), started from the venv against PostgreSQL and Redis given by DATABASE_URL
and REDIS_URL (the local servers by default). The one-shot steps run first (a self-signed pair for trials when
TLS_DIR holds none, then the migrations); then every process starts, its output prefixed with its name. A process
that exits is started again after a second, as compose's `restart: unless-stopped` does, and the exit is recorded.
Ctrl-C or SIGTERM stops them all; SIGHUP reloads nginx and gunicorn.

Environment: HTTP_PORT (8080), HTTPS_PORT (8443), WEB_PORT (8000, gunicorn on 127.0.0.1), HTTPS_ONLY (1; 0 serves
plain HTTP and turns the secure cookies off), TLS_DIR (deploy/tls: cert.pem and key.pem), ALLOWED_HOSTS, SECRET_KEY
(a random one per run when unset). Tests import Stack to run the stack on spare ports against their own servers.
"""

import argparse
import os
import re
import secrets
import shlex
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

BASE_DIR = Path(__file__).resolve().parent.parent
PROCFILE = BASE_DIR / "deploy" / "Procfile"
NGINX_TEMPLATE = BASE_DIR / "deploy" / "nginx" / "retarget.conf.template"
TLS_DIR = BASE_DIR / "deploy" / "tls"
# Run to completion, in this order, before the long-running processes start.
ONE_SHOT = ("tls", "release")
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/retarget"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
RESTART_DELAY_SECONDS = 1.0
STOP_TIMEOUT_SECONDS = 20.0
# Signals sent on to the processes that reload on them (for the others SIGHUP would stop or restart them).
RELOADS_ON_HUP = ("proxy", "web")

ERROR_PLACEHOLDER = "{name} is not set and has no default in deploy/Procfile"
ERROR_TEMPLATE_VARIABLE = "{name} is used by the proxy configuration but not set"
ERROR_PROCFILE_LINE = "deploy/Procfile line {number} is not `name: command`: {line!r}"
ERROR_NGINX_MISSING = "nginx is not installed and could not be installed with apt-get"
ERROR_STEP_FAILED = "the one-shot step {name!r} failed with exit status {status}"
ERROR_NOT_READY = "the stack did not answer {url} within {seconds} s"

PLACEHOLDER = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")
TEMPLATE_VARIABLE = re.compile(r"\$\{(PROXY_\w+)\}|\$(PROXY_\w+)")


def procfile_read(*, path: Path = PROCFILE) -> dict[str, str]:
    """Process name -> command line, in the file's order."""
    lines: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, command = line.partition(":")
        if not sep or not name.strip().isidentifier() or not command.strip():
            raise ValueError(ERROR_PROCFILE_LINE.format(number=number, line=raw))
        lines[name.strip()] = command.strip()
    return lines


def placeholders_fill(*, line: str, values: Mapping[str, str]) -> str:
    """${NAME:-default} -> values[NAME], or the default (the containers' value) when NAME is not given."""

    def fill(match: re.Match) -> str:
        name, default = match.group(1), match.group(2)
        if name in values:
            return shlex.quote(values[name])
        if default is None:
            raise KeyError(ERROR_PLACEHOLDER.format(name=name))
        return default

    return PLACEHOLDER.sub(fill, line)


def command_of(*, line: str, values: Mapping[str, str]) -> list[str]:
    return shlex.split(placeholders_fill(line=line, values=values))


def template_render(*, text: str, values: Mapping[str, str]) -> str:
    """What the nginx image's envsubst step makes of the template (only PROXY_* names; nginx's own $variables
    stay), except that a name left unset is an error here rather than an empty string."""

    def fill(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        if name not in values:
            raise KeyError(ERROR_TEMPLATE_VARIABLE.format(name=name))
        return values[name]

    return TEMPLATE_VARIABLE.sub(fill, text)


def template_variables(*, text: str) -> set[str]:
    return {a or b for a, b in TEMPLATE_VARIABLE.findall(text)}


def nginx_ensure() -> str:
    """nginx's path; installed from Debian's packages when missing (as .ci/run installs chromium)."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if found:
        return found
    print("prod: installing Debian's nginx", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    install = [*sudo, "apt-get", "install", "-y", "-q", "nginx"]
    if subprocess.run(install, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run([*sudo, "apt-get", "update", "-q"], stdout=subprocess.DEVNULL)
        subprocess.run(install, stdout=subprocess.DEVNULL)
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if not found:
        raise SystemExit(ERROR_NGINX_MISSING)
    return found


def nginx_main_conf(*, run_dir: Path, site_conf: Path) -> str:
    """The frame the nginx image's own nginx.conf gives the template: here its paths all live in the run folder."""
    user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}worker_processes 1;\npid {run_dir}/nginx.pid;\nerror_log stderr warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        "    include /etc/nginx/mime.types;\n"
        "    default_type application/octet-stream;\n"
        "    access_log off;\n"
        f"    client_body_temp_path {run_dir}/client_body;\n"
        f"    proxy_temp_path {run_dir}/proxy;\n"
        f"    fastcgi_temp_path {run_dir}/fastcgi;\n"
        f"    uwsgi_temp_path {run_dir}/uwsgi;\n"
        f"    scgi_temp_path {run_dir}/scgi;\n"
        f"    include {site_conf};\n"
        "}\n"
    )


@dataclass(frozen=True)
class Exit:
    name: str
    pid: int
    status: int
    at: float


class Stack:
    """deploy/Procfile's processes on one machine. start() runs the one-shot steps, then starts the others and
    waits until the proxy answers; stop() ends them all. `exits` records every process that exited while the
    stack was running (each was started again)."""

    def __init__(self, *, database_url: str, redis_url: str, http_port: int = 8080, https_port: int = 8443,
                 web_port: int = 8000, https_only: bool = True, tls_dir: Path = TLS_DIR,
                 run_dir: Path | None = None, log_dir: Path | None = None, env: Mapping[str, str] | None = None,
                 procfile: Path = PROCFILE) -> None:
        self.http_port = http_port
        self.https_port = https_port
        self.web_port = web_port
        self.https_only = https_only
        self.tls_dir = Path(tls_dir)
        self.run_dir = Path(run_dir) if run_dir else Path(tempfile.mkdtemp(prefix="retarget-prod-"))
        self.log_dir = log_dir
        self.lines = procfile_read(path=procfile)
        self.processes: dict[str, subprocess.Popen] = {}
        self.exits: list[Exit] = []
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._output: list[threading.Thread] = []
        self._supervisor: threading.Thread | None = None
        self.env = self._environment(database_url=database_url, redis_url=redis_url, extra=env or {})

    # The environment of every process: production settings behind one TLS-terminating proxy.
    def _environment(self, *, database_url: str, redis_url: str, extra: Mapping[str, str]) -> dict[str, str]:
        # The writer's socket is gunicorn's to choose, and the broker follows REDIS_URL, as in the containers.
        env = {name: value for name, value in os.environ.items()
               if name not in ("COLLECT_WRITER_SOCKET", "CELERY_BROKER_URL")}
        secure = "1" if self.https_only else "0"
        venv_bin = str(Path(sys.executable).parent)
        env.update({
            "DJANGO_SETTINGS_MODULE": "retarget.settings",
            "DEBUG": "0",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": os.environ.get("ALLOWED_HOSTS") or "localhost,127.0.0.1",
            "CSRF_TRUSTED_ORIGINS": os.environ.get("CSRF_TRUSTED_ORIGINS")
            or f"https://localhost:{self.https_port},https://127.0.0.1:{self.https_port}",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "TRUSTED_PROXY_COUNT": "1",
            "BEHIND_TLS_PROXY": "1",
            "SECURE_SSL_REDIRECT": secure,
            "SESSION_COOKIE_SECURE": secure,
            "CSRF_COOKIE_SECURE": secure,
            "PATH": os.pathsep.join([venv_bin, env.get("PATH", ""), "/usr/sbin", "/sbin"]),
            "PYTHONUNBUFFERED": "1",
            # The Procfile's placeholders: what differs from the containers on one machine.
            "TLS_DIR": str(self.tls_dir),
            "PROXY_CONF": str(self.run_dir / "nginx.conf"),
            "WEB_BIND": f"127.0.0.1:{self.web_port}",
            "BEAT_SCHEDULE": str(self.run_dir / "celerybeat-schedule"),
        })
        env.update(extra)
        return env

    def proxy_values(self) -> dict[str, str]:
        """The template's PROXY_* values, as docker-compose.yml sets them for the proxy service."""
        return {
            "PROXY_UPSTREAM": f"127.0.0.1:{self.web_port}",
            "PROXY_HTTP_LISTEN": f"127.0.0.1:{self.http_port}",
            "PROXY_HTTPS_LISTEN": f"127.0.0.1:{self.https_port}",
            "PROXY_TLS_CERT": str(self.tls_dir / "cert.pem"),
            "PROXY_TLS_KEY": str(self.tls_dir / "key.pem"),
            "PROXY_HTTPS_ONLY": "1" if self.https_only else "0",
            "PROXY_HTTPS_PORT_SUFFIX": "" if self.https_port == 443 else f":{self.https_port}",
        }

    def command(self, name: str) -> list[str]:
        return command_of(line=self.lines[name], values=self.env)

    def url(self, path: str = "/", *, https: bool = False) -> str:
        if https:
            return f"https://127.0.0.1:{self.https_port}{path}"
        return f"http://127.0.0.1:{self.http_port}{path}"

    def start(self, *, collectstatic: bool = True, timeout: float = 60) -> None:
        """Everything, or nothing left running when a step fails."""
        try:
            self._start(collectstatic=collectstatic, timeout=timeout)
        except BaseException:
            self.stop()
            raise

    def _start(self, *, collectstatic: bool, timeout: float) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.run_dir.chmod(0o755)  # nginx's workers (nobody when started as root) reach their temp folders
        nginx_ensure()
        for name in ONE_SHOT:
            if name in self.lines:
                self._run_once(name)
        if collectstatic:  # done when the image is built, for compose
            self._run_once("collectstatic",
                           [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"])
        site_conf = self.run_dir / "retarget.conf"
        site_conf.write_text(template_render(text=NGINX_TEMPLATE.read_text(), values=self.proxy_values()))
        Path(self.env["PROXY_CONF"]).write_text(nginx_main_conf(run_dir=self.run_dir, site_conf=site_conf))
        for name in self.lines:
            if name not in ONE_SHOT:
                self._spawn(name)
        self._supervisor = threading.Thread(target=self._supervise, name="prod-supervisor", daemon=True)
        self._supervisor.start()
        self.wait_ready(timeout=timeout)

    def wait_ready(self, *, timeout: float = 60) -> None:
        """Until the proxy answers /healthz with 200 through TLS (gunicorn up behind it)."""
        url = self.url("/healthz", https=True)
        context = ssl._create_unverified_context()  # the trial certificate is self-signed
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                request = urllib.request.Request(url, headers={"Host": "localhost"})
                with urllib.request.urlopen(request, timeout=5, context=context) as response:
                    if response.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.3)
        raise RuntimeError(ERROR_NOT_READY.format(url=url, seconds=timeout))

    def _sink(self, name: str) -> Callable[[str], None] | TextIO:
        if self.log_dir is not None:
            return open(Path(self.log_dir) / f"{name}.log", "a")  # noqa: SIM115 (closed by its output thread)
        width = max(len(n) for n in self.lines)
        prefix = f"{name:<{width}} | "

        def write(line: str) -> None:
            sys.stdout.write(prefix + line)
            sys.stdout.flush()

        return write

    def _forward(self, process: subprocess.Popen, sink) -> None:
        write = sink if callable(sink) else sink.write
        for line in iter(process.stdout.readline, ""):
            write(line)
            if not callable(sink):
                sink.flush()
        if not callable(sink):
            sink.close()

    def _popen(self, name: str, command: list[str]) -> subprocess.Popen:
        # Each in its own session: Ctrl-C reaches the runner alone, which stops the processes in order.
        process = subprocess.Popen(command, cwd=BASE_DIR, env=self.env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True)
        thread = threading.Thread(target=self._forward, args=(process, self._sink(name)), daemon=True)
        thread.start()
        self._output.append(thread)
        return process

    def _run_once(self, name: str, command: list[str] | None = None) -> None:
        process = self._popen(name, command or self.command(name))
        status = process.wait()
        if status != 0:
            raise RuntimeError(ERROR_STEP_FAILED.format(name=name, status=status))

    def _spawn(self, name: str) -> None:
        with self._lock:
            self.processes[name] = self._popen(name, self.command(name))

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            for name, process in list(self.processes.items()):
                status = process.poll()
                if status is None or self._stopping.is_set():
                    continue
                self.exits.append(Exit(name=name, pid=process.pid, status=status, at=time.time()))
                print(f"prod: {name} (pid {process.pid}) exited with status {status}; starting it again",
                      file=sys.stderr, flush=True)
                self._stopping.wait(RESTART_DELAY_SECONDS)
                if not self._stopping.is_set():
                    self._spawn(name)
            self._stopping.wait(0.2)

    def alive(self) -> dict[str, bool]:
        return {name: process.poll() is None for name, process in self.processes.items()}

    def signal(self, signum: int, *, names: tuple[str, ...] | None = None) -> None:
        for name, process in self.processes.items():
            if (names is None or name in names) and process.poll() is None:
                try:
                    os.killpg(process.pid, signum)
                except ProcessLookupError:
                    pass

    def stop(self) -> None:
        """SIGTERM to every process group (gunicorn stops its collect writer, Celery finishes its task), then
        SIGKILL for what is left after STOP_TIMEOUT_SECONDS."""
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=5)
        self.signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        self.signal(signal.SIGKILL)
        for process in self.processes.values():
            process.wait()
        for thread in self._output:
            thread.join(timeout=5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.parse_args(argv)
    stack = Stack(
        database_url=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        redis_url=os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
        http_port=int(os.environ.get("HTTP_PORT") or 8080),
        https_port=int(os.environ.get("HTTPS_PORT") or 8443),
        web_port=int(os.environ.get("WEB_PORT") or 8000),
        https_only=(os.environ.get("HTTPS_ONLY") or "1") not in ("0", "false", "no", "off"),
        tls_dir=Path(os.environ.get("TLS_DIR") or TLS_DIR).resolve(),
    )
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGHUP, lambda *_: stack.signal(signal.SIGHUP, names=RELOADS_ON_HUP))
    try:
        # Generous: a dozen gunicorn workers, the writer, the worker and beat all import Django at once.
        stack.start(timeout=300)
        scheme_port = f"https://localhost:{stack.https_port}"
        print(f"prod: ready on {scheme_port}/admin/ and http://localhost:{stack.http_port}/ "
              f"(run dir {stack.run_dir}); Ctrl-C stops everything", flush=True)
        while not done.wait(1):
            pass
    finally:
        print("prod: stopping", flush=True)
        stack.stop()
        shutil.rmtree(stack.run_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
