"""What the server knows about the sender: device type, bot or not, its address (read from a request's META or a WSGI
environ, behind trusted proxies) and that address in forms safe to keep; the User-Agent as it can be stored."""

import hashlib
import hmac
import ipaddress
from datetime import date
from functools import lru_cache

import ua_parser
from django.conf import settings

BOT = "bot"
DESKTOP = "desktop"
MOBILE = "mobile"
TABLET = "tablet"
MOBILE_OS = frozenset({"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "Firefox OS", "Tizen"})
DESKTOP_DEVICE_FAMILIES = frozenset({"Other", "Mac"})


@lru_cache(maxsize=4096)
def device_of(user_agent: str) -> str:
    """bot, tablet, mobile or desktop, from ua-parser's reading of the User-Agent.

    A missing User-Agent is a script, never a browser: counted as a bot.
    """
    if not user_agent:
        return BOT
    result = ua_parser.parse(user_agent)
    device = result.device
    if device is not None and device.family == "Spider":
        return BOT
    if device is not None and (
        device.family == "iPad" or "Tablet" in (device.brand or "") or "Kindle" in device.family
    ):
        return TABLET
    if (result.os is not None and result.os.family in MOBILE_OS) or (
        device is not None and device.family not in DESKTOP_DEVICE_FAMILIES
    ):
        return MOBILE
    return DESKTOP


def user_agent_clean(user_agent: str) -> str:
    """The User-Agent as it can be stored: PostgreSQL refuses NUL in text, which a client may send in a header."""
    return user_agent.replace("\x00", "") if "\x00" in user_agent else user_agent


def client_ip(meta) -> str:
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the entry of X-Forwarded-For that the
    first of them added, counted from the right (each proxy appends the address it saw; anything to the left of the
    entries they added came from the client and is ignored). REMOTE_ADDR when the header has fewer entries.

    `meta`: a request's META or a WSGI environ (the same keys)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return meta.get("REMOTE_ADDR", "")


def ip_truncate(ip: str) -> str:
    """IPv4 to its /24, IPv6 to its /48: a network, not a person."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


@lru_cache(maxsize=4)
def _daily_salt(day: date) -> bytes:
    # Derived, never stored: yesterday's hashes cannot be linked to today's once the day is over.
    message = f"retarget-ip-salt:{day.isoformat()}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).digest()


@lru_cache(maxsize=4)
def _daily_hmac(day: date):
    # Keyed once a day: each request copies it rather than deriving the keyed state from the salt again.
    return hmac.new(_daily_salt(day), digestmod=hashlib.sha256)


def ip_hash(ip: str, *, day: date) -> str:
    keyed = _daily_hmac(day).copy()
    keyed.update(ip.encode())
    return keyed.hexdigest()[:32]
