"""The web container's health check: GET URL (gunicorn, not through the proxy) answers 200.

Sent as the proxy would send it: a Host the settings allow (the first of ALLOWED_HOSTS) and X-Forwarded-Proto
https, so that neither the host check nor the HTTPS redirect answers in place of the view.
Usage: python deploy/healthcheck.py http://127.0.0.1:8000/healthz
"""

import os
import sys
import urllib.request


def allowed_host() -> str:
    for host in os.environ.get("ALLOWED_HOSTS", "").split(","):
        host = host.strip().lstrip(".")
        if host and "*" not in host:
            return host
    return "localhost"


def main(url: str) -> int:
    request = urllib.request.Request(url, headers={"Host": allowed_host(), "X-Forwarded-Proto": "https"})
    try:
        with urllib.request.urlopen(request, timeout=3) as response:
            return 0 if response.status == 200 else 1
    except OSError as error:
        print(f"healthcheck: {url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
