"""Lead magnets handed out by collect: a signed, short-lived link per stored lead whose variant promises a file.

A 202 means the batch is committed, so the link is issued in that same answer: the lead is stored. The tally's
later bot screening (campaigns/tally/forms.py: fill time, leads per mailbox and per address) may still refuse to
count it; the file has been handed out by then. That is the choice: a give-away file is worth less than making
every real visitor wait for the tally, and a link only works for MAGNET_LINK_SECONDS and names one event.
A filled honeypot, a bot's User-Agent or an unknown variant are refused by collect itself and earn no link.

The link carries its site, campaign, file and event, signed with Django's signing (TimestampSigner, keyed by
SECRET_KEY): nothing is stored to issue it, so collect costs no query more.
"""

from typing import NamedTuple

from django.conf import settings
from django.core import signing

from campaigns.ingest.site_map import SiteIngest
from campaigns.ingest.store import EventRow

SUBMIT = "submit"
_SALT = "campaigns.ingest.magnets"
_SEP = "."

ERROR_LINK_EXPIRED = "this download link has expired; sign up again for a new one"
ERROR_LINK_INVALID = "this download link is not valid"


class Delivery(NamedTuple):
    """A link to hand out: the submit's event id, the signed token of the link and the magnet's title."""

    event_id: str
    token: str
    title: str


class MagnetLink(NamedTuple):
    """What a valid token names."""

    site_id: int
    campaign_id: int
    asset_id: int
    event_id: str


class LinkRefused(Exception):
    """A token expired (`expired`) or forged, altered or of another purpose."""

    def __init__(self, message: str, *, expired: bool) -> None:
        super().__init__(message)
        self.expired = expired


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=_SALT)


def magnet_token(*, site_id: int, campaign_id: int, asset_id: int, event_id: str) -> str:
    return _signer().sign(_SEP.join((str(site_id), str(campaign_id), str(asset_id), event_id)))


def magnet_token_read(token: str, *, max_age: int | None = None) -> MagnetLink:
    """What a token names, once its signature and age are checked (LinkRefused otherwise)."""
    try:
        value = _signer().unsign(token, max_age=settings.MAGNET_LINK_SECONDS if max_age is None else max_age)
    except signing.SignatureExpired:
        raise LinkRefused(ERROR_LINK_EXPIRED, expired=True) from None
    except signing.BadSignature:
        raise LinkRefused(ERROR_LINK_INVALID, expired=False) from None
    site_id, campaign_id, asset_id, event_id = value.split(_SEP, 3)
    return MagnetLink(int(site_id), int(campaign_id), int(asset_id), event_id)


def magnet_deliveries(*, ingest: SiteIngest, events: list[EventRow]) -> list[Delivery]:
    """A link for each stored submit of a variant with a lead magnet (no query: the site map knows them)."""
    if not ingest.magnets:
        return []
    deliveries = []
    for event in events:
        magnet = ingest.magnets.get(event.variant_id) if event.type == SUBMIT else None
        if magnet is not None:
            asset_id, title = magnet
            token = magnet_token(site_id=ingest.site_id, campaign_id=event.campaign_id, asset_id=asset_id,
                                 event_id=event.event_id)
            deliveries.append(Delivery(event.event_id, token, title))
    return deliveries
