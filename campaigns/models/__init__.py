from campaigns.models.events import *  # noqa: F403
from campaigns.models.journeys import *  # noqa: F403
from campaigns.models.privacy import DataRequest
from campaigns.models.site import Campaign, Site, SiteInvitation, SiteQuerySet, Variant, public_key_new

__all__ = ["Campaign", "DataRequest", "Site", "SiteInvitation", "SiteQuerySet", "Variant", "public_key_new"]
