"""Site origins: the scheme and host (and port) a page is served from, compared exactly."""

from functools import lru_cache
from urllib.parse import urlsplit

ERROR_NOT_A_LIST = "must be a list of origins such as [\"https://shop.example\"]"
ERROR_BAD_ORIGIN = "[{index}]: {value!r} is not an origin (scheme://host[:port], nothing after the host)"


def origin_normalize(value: str) -> str | None:
    """'https://Shop.Example:443' -> 'https://shop.example'; anything with a path, query or user is None."""
    if not isinstance(value, str):
        return None
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        return None
    default_port = 443 if parts.scheme == "https" else 80
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default_port else "")


def origin_of_url(url: str) -> str | None:
    """The origin of a full URL (a Referer header), or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return origin_normalize(f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port else ""))


def origins_errors(value) -> list[str]:
    if not isinstance(value, list):
        return [ERROR_NOT_A_LIST]
    return [
        ERROR_BAD_ORIGIN.format(index=index, value=item)
        for index, item in enumerate(value)
        if origin_normalize(item) is None
    ]


def origin_allowed(*, origin: str | None, allowed) -> bool:
    """Cached: the public endpoints ask this on every request, about the same few origins of each site."""
    return origin is not None and _origin_allowed(origin, tuple(allowed))


@lru_cache(maxsize=4096)
def _origin_allowed(origin: str, allowed: tuple[str, ...]) -> bool:
    normalized = origin_normalize(origin)
    return normalized is not None and normalized in {origin_normalize(a) for a in allowed}
