"""Keyed one-way hashes of a visitor's e-mail address and visitor id, for finding their rows without storing
the look-up key twice (or at all, for consent proof).

HMAC-SHA256 under PRIVACY_HASH_KEY (or SECRET_KEY): without the key, nobody can test a guessed address
against a leaked hash. Rotating the key makes existing hashes unfindable until they are recomputed.
"""

from django.conf import settings
from django.utils.crypto import salted_hmac

EMAIL_SALT = "retarget.pseudonyms.email"
VISITOR_SALT = "retarget.pseudonyms.visitor"
HASH_LENGTH = 64


def _key() -> str:
    return settings.PRIVACY_HASH_KEY or settings.SECRET_KEY


def email_normalize(*, email: str) -> str:
    """The form both the tally and a look-up hash: what visitors type differs in case and surrounding spaces."""
    return email.strip().lower()


def email_hash(*, email: str) -> str:
    """"" for a blank address, so that rows without one never match each other."""
    normalized = email_normalize(email=email)
    if not normalized:
        return ""
    return salted_hmac(EMAIL_SALT, normalized, secret=_key(), algorithm="sha256").hexdigest()


def visitor_hash(*, visitor_id: str) -> str:
    """"" for no visitor (a consent denial is sent without one)."""
    if not visitor_id:
        return ""
    return salted_hmac(VISITOR_SALT, visitor_id, secret=_key(), algorithm="sha256").hexdigest()
