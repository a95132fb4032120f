"""deploy/nginx/retarget.conf.template as `make prod` renders it, nginx in front of a stand-in upstream that echoes
what it received: TLS terminated, the client's address and scheme forwarded, HTTPS enforced unless switched off,
bodies limited, and an upstream that does not answer turned into 503 with Retry-After."""

import http.client
import json
import shutil
import ssl
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from scripts import prod
from tests.servers import spare_port, wait_port


class Echo(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.dumps({"path": self.path, "headers": dict(self.headers), "length": len(self.rfile.read(length))})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def upstream():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def nginx_start(*, upstream_port: int, https_only: bool):
    run_dir = Path(tempfile.mkdtemp(prefix="retarget-proxy-test-"))
    run_dir.chmod(0o755)
    stack = prod.Stack(database_url="postgres://x@127.0.0.1:1/x", redis_url="redis://127.0.0.1:1/0",
                       http_port=spare_port(), https_port=spare_port(), web_port=upstream_port,
                       https_only=https_only, run_dir=run_dir, tls_dir=run_dir / "tls")
    subprocess.run(["sh", str(prod.BASE_DIR / "deploy" / "tls-selfsigned.sh"), str(stack.tls_dir)], check=True,
                   capture_output=True)
    site = run_dir / "retarget.conf"
    site.write_text(prod.template_render(text=prod.NGINX_TEMPLATE.read_text(), values=stack.proxy_values()))
    (run_dir / "nginx.conf").write_text(prod.nginx_main_conf(run_dir=run_dir, site_conf=site))
    process = subprocess.Popen(stack.command("proxy"), env=stack.env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    wait_port(port=stack.http_port, what="nginx")
    wait_port(port=stack.https_port, what="nginx")
    return stack, process, run_dir


@pytest.fixture(scope="module")
def proxy(upstream):
    stack, process, run_dir = nginx_start(upstream_port=upstream, https_only=True)
    yield stack
    process.terminate()
    process.wait(timeout=10)
    shutil.rmtree(run_dir, ignore_errors=True)


def request(port: int, method: str, path: str, *, tls: bool = False, body: bytes | None = None,
            headers: dict | None = None) -> tuple[int, dict, bytes]:
    if tls:
        connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=10,
                                                 context=ssl._create_unverified_context())
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, body=body, headers={"Host": f"localhost:{port}", **(headers or {})})
    response = connection.getresponse()
    answer = response.status, dict(response.headers), response.read()
    connection.close()
    return answer


def test_plain_http_is_redirected_to_the_https_port(proxy):
    status, headers, _ = request(proxy.http_port, "GET", "/admin/?next=1")
    assert status == 308
    assert headers["Location"] == f"https://localhost:{proxy.https_port}/admin/?next=1"


def test_tls_is_terminated_and_the_clients_address_and_scheme_are_forwarded(proxy):
    status, _, body = request(proxy.https_port, "GET", "/healthz", tls=True,
                              headers={"X-Forwarded-For": "203.0.113.9"})
    seen = json.loads(body)["headers"]
    assert status == 200
    assert seen["X-Forwarded-Proto"] == "https"
    # Appended: the last entry is the address the proxy saw, the one TRUSTED_PROXY_COUNT=1 takes.
    assert seen["X-Forwarded-For"] == "203.0.113.9, 127.0.0.1"
    assert seen["Host"] == f"localhost:{proxy.https_port}"


def test_a_whole_collect_batch_passes_and_a_larger_body_is_refused_by_the_proxy(proxy):
    batch = b"x" * (64 * 1024)
    status, _, body = request(proxy.https_port, "POST", "/api/w/pk_x/events", tls=True, body=batch)
    assert (status, json.loads(body)["length"]) == (200, len(batch))
    status, _, _ = request(proxy.https_port, "POST", "/api/w/pk_x/events", tls=True, body=b"x" * (129 * 1024))
    assert status == 413


def test_an_upstream_that_does_not_answer_is_a_503_with_retry_after():
    stack, process, run_dir = nginx_start(upstream_port=spare_port(), https_only=True)
    try:
        status, headers, body = request(stack.https_port, "POST", "/api/w/pk_x/events", tls=True, body=b"{}")
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(run_dir, ignore_errors=True)
    assert status == 503
    assert headers["Retry-After"] == "5"
    assert json.loads(body)["error"] == "service unavailable"


def test_with_https_only_off_plain_http_is_proxied_as_http(upstream):
    stack, process, run_dir = nginx_start(upstream_port=upstream, https_only=False)
    try:
        status, _, body = request(stack.http_port, "GET", "/admin/")
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(run_dir, ignore_errors=True)
    assert status == 200
    assert json.loads(body)["headers"]["X-Forwarded-Proto"] == "http"
