"""A page fetched for the installation check's "Check now", on behalf of a site owner: a request our server makes to
a URL someone typed, so it is held to what the check needs.

- Only the site's allowed origins, at every hop: a redirect to any other origin is refused, not followed.
- Only public addresses: the host is resolved once per hop, every address must be global (no private, loopback,
  link-local, multicast or reserved one), and the connection goes to that resolved address (the name is not
  resolved again, so a second answer cannot point it elsewhere). Tests allow loopback with
  INSTALLATION_CHECK_ALLOW_LOOPBACK.
- FETCH_SECONDS for the whole fetch, redirects included; FETCH_MAX_BYTES of body, after decompression; at most
  MAX_REDIRECTS redirects.

urllib3 makes the requests (TLS verification, the Host header and SNI kept on the name while connecting to the
address, decompression bounded by the amount read).
"""

import ipaddress
import socket
import time
from typing import NamedTuple
from urllib.parse import urljoin, urlsplit

import urllib3
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from campaigns.ingest.origins import origin_normalize, origin_of_url

FETCH_SECONDS = 5.0
FETCH_MAX_BYTES = 1_000_000
MAX_REDIRECTS = 3
USER_AGENT = "RetargetInstallationCheck/1.0 (+the site owner asked for this page)"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})

ERROR_NOT_A_URL = _("{url} is not a web address (http:// or https://).")
ERROR_NOT_ALLOWED = _("{origin} is not one of this site's origins: only pages of the site can be checked.")
ERROR_REDIRECT_NOT_ALLOWED = _("{url} redirects to {origin}, which is not one of this site's origins.")
ERROR_NOT_PUBLIC = _("{host} is not a public address: only public pages can be checked.")
ERROR_UNRESOLVED = _("{host} could not be found (DNS).")
ERROR_TOO_MANY_REDIRECTS = _("{url} redirects more than {count} times.")
ERROR_TIMEOUT = _("{url} did not answer within {seconds:g} seconds.")
ERROR_UNREACHABLE = _("{url} could not be fetched: {reason}.")
ERROR_STATUS = _("{url} answered HTTP {status}.")


class FetchRefused(Exception):
    """The page was not fetched, or not fully: the message says why, for the owner."""


class Fetched(NamedTuple):
    url: str  # the last URL, after redirects
    status: int
    body: bytes
    truncated: bool  # the body went past FETCH_MAX_BYTES; only its start is here


def address_allowed(address: str, *, loopback: bool) -> bool:
    """A global address (or, when allowed, a loopback one); IPv4-mapped IPv6 addresses are judged as IPv4."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if loopback and ip.is_loopback:
        return True
    return ip.is_global and not ip.is_multicast


def _resolve(host: str, port: int, *, loopback: bool) -> str:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise FetchRefused(ERROR_UNRESOLVED.format(host=host)) from None
    addresses = [info[4][0] for info in infos]
    if not addresses or not all(address_allowed(a, loopback=loopback) for a in addresses):
        raise FetchRefused(ERROR_NOT_PUBLIC.format(host=host))
    return addresses[0]


def page_fetch(*, url: str, allowed_origins, seconds: float = FETCH_SECONDS,
               max_bytes: int = FETCH_MAX_BYTES) -> Fetched:
    """GET `url` within the rules above; raises FetchRefused with the owner's explanation."""
    allowed = {o for o in map(origin_normalize, allowed_origins or []) if o}
    loopback = settings.INSTALLATION_CHECK_ALLOW_LOOPBACK
    deadline = time.monotonic() + seconds
    origin = origin_of_url(url.strip()) if isinstance(url, str) else None
    if origin is None:
        raise FetchRefused(ERROR_NOT_A_URL.format(url=url))
    if origin not in allowed:
        raise FetchRefused(ERROR_NOT_ALLOWED.format(origin=origin))
    url = url.strip()
    for _hop in range(MAX_REDIRECTS + 1):
        response = _get(url, loopback=loopback, deadline=deadline, seconds=seconds)
        try:
            if response.status in _REDIRECTS and response.headers.get("Location"):
                target = urljoin(url, response.headers["Location"])
                target_origin = origin_of_url(target)
                if target_origin is None or target_origin not in allowed:
                    raise FetchRefused(ERROR_REDIRECT_NOT_ALLOWED.format(url=url, origin=target_origin or target))
                url = target
                continue
            body, truncated = _read(response, max_bytes=max_bytes, deadline=deadline, url=url, seconds=seconds)
            return Fetched(url=url, status=response.status, body=body, truncated=truncated)
        finally:
            response.release_conn()
    raise FetchRefused(ERROR_TOO_MANY_REDIRECTS.format(url=url, count=MAX_REDIRECTS))


def _remaining(deadline: float, *, url: str, seconds: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchRefused(ERROR_TIMEOUT.format(url=url, seconds=seconds))
    return left


def _get(url: str, *, loopback: bool, deadline: float, seconds: float):
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = _resolve(host, port, loopback=loopback)
    left = _remaining(deadline, url=url, seconds=seconds)
    timeout = urllib3.Timeout(connect=left, read=left)
    if parts.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(address, port, timeout=timeout, retries=False, maxsize=1,
                                           server_hostname=host, assert_hostname=host, cert_reqs="CERT_REQUIRED")
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False, maxsize=1)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    if ":" in host and parts.port is None:
        host_header = f"[{host}]"
    try:
        return pool.urlopen("GET", target, headers={"Host": host_header, "User-Agent": USER_AGENT,
                                                    "Accept": "text/html,*/*;q=0.5"},
                            redirect=False, retries=False, preload_content=False, assert_same_host=False)
    except (urllib3.exceptions.TimeoutError, urllib3.exceptions.ReadTimeoutError,
            urllib3.exceptions.ConnectTimeoutError):
        raise FetchRefused(ERROR_TIMEOUT.format(url=url, seconds=seconds)) from None
    except urllib3.exceptions.HTTPError as error:
        raise FetchRefused(ERROR_UNREACHABLE.format(url=url, reason=type(error).__name__)) from None


def _read(response, *, max_bytes: int, deadline: float, url: str, seconds: float) -> tuple[bytes, bool]:
    chunks, size = [], 0
    try:
        while size <= max_bytes:
            _remaining(deadline, url=url, seconds=seconds)
            chunk = response.read(min(65536, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except (urllib3.exceptions.TimeoutError, urllib3.exceptions.ReadTimeoutError):
        raise FetchRefused(ERROR_TIMEOUT.format(url=url, seconds=seconds)) from None
    except urllib3.exceptions.HTTPError as error:
        raise FetchRefused(ERROR_UNREACHABLE.format(url=url, reason=type(error).__name__)) from None
    body = b"".join(chunks)
    return body[:max_bytes], size > max_bytes
