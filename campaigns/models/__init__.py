"""The models, by concept: site.py (sites, members, invitations, campaigns, variants), events.py (raw events and
collect's refusals), tally.py (what the tally writes: cursor, assignments, funnel steps, daily counters),
records.py (what is kept after raw events expire: responses, consent proof, allocation history) and privacy.py
(data-subject requests), assets.py (lead magnet files), installation.py (what the installation check reads),
journeys.py (page groups, stages and the journey counters), journey_rollups.py (the journey map's daily sums by
label, a big campaign's journey effect counts), journey_walks.py (the walk and exit rollups), audiences.py (audiences
and their daily counts)."""

from campaigns.models.assets import Asset
from campaigns.models.audiences import *  # noqa: F403
from campaigns.models.events import *  # noqa: F403
from campaigns.models.installation import *  # noqa: F403
from campaigns.models.journey_rollups import *  # noqa: F403
from campaigns.models.journey_walks import *  # noqa: F403
from campaigns.models.journeys import *  # noqa: F403
from campaigns.models.privacy import DataRequest
from campaigns.models.records import *  # noqa: F403
from campaigns.models.site import Campaign, Language, Site, SiteInvitation, SiteQuerySet, Variant, public_key_new
from campaigns.models.tally import *  # noqa: F403

__all__ = [
    "Asset", "Campaign", "DataRequest", "Language", "Site", "SiteInvitation", "SiteQuerySet", "Variant",
    "public_key_new",
]
