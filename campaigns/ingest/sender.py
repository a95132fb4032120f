"""What the server knows about the sender: device type, bot or not, its address (read from a request's META or a WSGI
environ, behind trusted proxies) and that address in forms safe to keep; the User-Agent as it can be stored."""

import hashlib
import hmac
import ipaddress
from datetime import date
from functools import lru_cache

import ua_parser
from django.conf import settings

from campaigns.targeting import device

BOT = "bot"


@lru_cache(maxsize=4096)
def device_of(user_agent: str) -> str:
    """bot, or the device the widget's rules read from the User-Agent: tablet, mobile or desktop.

    A missing User-Agent is a script, never a browser: counted as a bot. Crawlers are ua-parser's (its list of
    them is maintained upstream); the device is campaigns.targeting.device's, the rules the widget targets with.
    """
    if not user_agent:
        return BOT
    found = ua_parser.parse_device(user_agent)
    if found is not None and found.family == "Spider":
        return BOT
    return device.device_of(user_agent=user_agent)


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
