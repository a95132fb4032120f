from campaigns.services.campaigns import (
    campaign_create,
    campaign_duplicate,
    campaigns_set_status,
    site_create,
    variant_create,
)

__all__ = ["campaign_create", "campaign_duplicate", "campaigns_set_status", "site_create", "variant_create"]
