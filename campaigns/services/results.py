"""Writes on A/B results: declaring (or withdrawing) a campaign's winner.

The widget config already sends all traffic to `Campaign.winner` (and drops the holdout); saving
the campaign drops the site's cached config (campaigns/signals.py), so the change is live at once.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from campaigns.models import Campaign, Variant

WINNER_NOT_IN_CAMPAIGN = "This variant does not belong to the campaign."


@transaction.atomic
def campaign_winner_declare(*, campaign: Campaign, variant: Variant) -> Campaign:
    """All traffic goes to `variant` from now on; declaring the same winner again keeps the first date."""
    if variant.campaign_id != campaign.id:
        raise ValidationError({"winner": WINNER_NOT_IN_CAMPAIGN})
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.winner_id == variant.id:
        return campaign
    campaign.winner = variant
    campaign.winner_declared_at = timezone.now()
    campaign.save(update_fields=["winner", "winner_declared_at", "updated_at"])
    return campaign


@transaction.atomic
def campaign_winner_clear(*, campaign: Campaign) -> Campaign:
    """Back to the configured weights and holdout."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.winner_id is None:
        return campaign
    campaign.winner = None
    campaign.winner_declared_at = None
    campaign.save(update_fields=["winner", "winner_declared_at", "updated_at"])
    return campaign
