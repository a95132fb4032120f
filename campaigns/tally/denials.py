"""A consent denial that asks to forget its visitor: erased as the fold counts it, once, in the fold's transaction."""

import logging

from campaigns.models import DataRequest, Event, Site
from campaigns.selectors.visitor_data import LookupInvalid
from campaigns.services.visitor_data import visitor_data_erase

logger = logging.getLogger(__name__)


def consent_allows(payload: dict) -> bool:
    """As the widget reads a decision: granted, or chosen categories that include marketing."""
    categories = payload.get("categories")
    return payload.get("decision") == "granted" or (isinstance(categories, list) and "marketing" in categories)


def denials_erase(events: list[dict]) -> None:
    """A denial on a site that erases on denial names the visitor it forgets (payload "erase", sent only inside
    the denial): what the server holds for them is erased as the fold counts the event, so once, in the fold's
    transaction. The id is then removed from the stored denial, so it is kept nowhere."""
    wanted = [e for e in events if e["type"] == "consent" and isinstance(e["payload"], dict)
              and isinstance(e["payload"].get("erase"), str)]
    if not wanted:
        return
    sites = Site.objects.in_bulk({e["site_id"] for e in wanted})
    for e in wanted:
        site, visitor_id = sites.get(e["site_id"]), e["payload"]["erase"]
        if site is not None and site.consent_erase_on_denial and not consent_allows(e["payload"]):
            try:
                visitor_data_erase(site=site, requested_by=None, channel=DataRequest.Channel.DENIAL,
                                   visitor_id=visitor_id)
            except LookupInvalid as error:
                logger.info("denial erase: site %s, event %s: %s", site.id, e["event_id"], error)
        Event.objects.filter(site_id=e["site_id"], event_id=e["event_id"]).update(
            payload={**e["payload"], "erase": True}
        )
