from campaigns.services.campaigns import (
    CampaignInvalid,
    campaign_create,
    campaign_duplicate,
    campaign_save,
    campaigns_set_status,
    site_create,
    site_delete,
    site_update,
    variant_create,
)

__all__ = [
    "CampaignInvalid", "campaign_create", "campaign_duplicate", "campaign_save", "campaigns_set_status", "site_create",
    "site_delete", "site_update", "variant_create",
]
