"""Reads for previews: a campaign's config as the widget reads it, for the admin's preview frame (unsaved content)
and for "Preview on my site" (a signed link naming a saved campaign, drafts included); the screens a message has.

A preview link's token is signed with Django's signing (SECRET_KEY), names the site, the campaign, the owner who
made it and optionally a variant, and lasts PREVIEW_LINK_SECONDS. It is only a capability to look at that
campaign's content: it shows nothing to anyone else and records nothing.
"""

from django.contrib.auth import get_user_model
from django.core import signing
from django.utils import timezone

from campaigns.content import content_clean
from campaigns.models import Campaign, Site
from campaigns.selectors.config import campaign_config_build, site_config_head
from campaigns.targeting.compile import config_compile

PREVIEW_SALT = "campaigns.preview-link"
PREVIEW_LINK_SECONDS = 10 * 60
ERROR_EXPIRED = "preview link expired"
ERROR_INVALID = "invalid preview link"
ERROR_GONE = "the campaign of this preview link is gone or has no valid variant"

# A site-less head for the admin's add page, before a site is picked.
_NO_SITE_HEAD = {"key": "", "tz": "UTC", "consent": {}, "cap": {}, "endpoints": {}}
BANDS = (("detractor", "0-6"), ("passive", "7-8"), ("promoter", "9-10"))


def _compiled(*, head: dict, campaign: dict) -> dict:
    now = timezone.now()
    return config_compile(config={"site": head, "campaigns": [campaign]}, now=int(now.timestamp() * 1000))


def preview_token_make(*, campaign: Campaign, user, variant_id: int | None = None) -> str:
    payload = {"s": campaign.site.public_key, "c": campaign.id, "u": user.id, "v": variant_id}
    return signing.dumps(payload, salt=PREVIEW_SALT, compress=True)


def preview_config_get(*, public_key: str, token: str) -> tuple[dict | None, str | None]:
    """The compiled config of the link's campaign alone (its variant alone, when the link names one), or an error."""
    try:
        payload = signing.loads(token, salt=PREVIEW_SALT, max_age=PREVIEW_LINK_SECONDS)
    except signing.SignatureExpired:
        return None, ERROR_EXPIRED
    except signing.BadSignature:
        return None, ERROR_INVALID
    if not isinstance(payload, dict) or payload.get("s") != public_key:
        return None, ERROR_INVALID  # a link made for another site
    user = get_user_model().objects.filter(pk=payload.get("u"), is_active=True).first()
    site = Site.objects.for_user(user).filter(public_key=public_key).first() if user else None
    if site is None:
        return None, ERROR_INVALID  # its owner has left the site since
    campaign = Campaign.objects.filter(site=site, pk=payload.get("c")).first()
    entry = campaign_config_build(campaign) if campaign else None
    if entry and payload.get("v") is not None:
        entry["variants"] = [v for v in entry["variants"] if v["id"] == payload["v"]]
    if not entry or not entry["variants"]:
        return None, ERROR_GONE
    return _compiled(head=site_config_head(site=site), campaign=entry), None


def content_preview_config(
    *, site: Site | None, message_type: str, content: object, campaign_id: int | None = None
) -> tuple[dict | None, list[str]]:
    """Unsaved content as the widget would read it once saved (sanitized and compiled), or its errors."""
    cleaned, errors = content_clean(message_type=message_type, content=content)
    if errors:
        return None, errors
    campaign = {
        "id": campaign_id or 0, "type": message_type, "priority": 0, "starts_at": None, "ends_at": None,
        "schedule": {"weekdays": None, "hours": None}, "triggers": [], "targeting": None, "frequency": {},
        "goal": {}, "control_share": 0.0, "variants": [{"id": 0, "name": "", "weight": 100, "content": cleaned}],
    }
    head = site_config_head(site=site) if site else _NO_SITE_HEAD
    return _compiled(head=head, campaign=campaign), []


def preview_screens(*, message_type: str, content: dict) -> list[tuple[str, str]]:
    """The screens of a message, in the order a visitor meets them: (name, label); src/lazy/preview.js opens each."""
    screens = [(f"step:{i}", f"Step {i + 1}") for i, _ in enumerate(content.get("steps") or [])]
    screens.append(("main", "Message"))
    quiz = content.get("quiz")
    if quiz:
        screens += [(f"question:{i}", f"Question {i + 1}") for i, _ in enumerate(quiz.get("questions") or [])]
        screens.append(("result", "Result"))
    if message_type == Campaign.MessageType.NPS:
        screens += [(f"followup:{band}", f"Follow-up {scores}") for band, scores in BANDS]
    if message_type == Campaign.MessageType.CART_RECOVERY and content.get("feedback"):
        screens.append(("feedback", "What stopped you?"))
    if message_type == Campaign.MessageType.CONSENT:
        screens.append(("choose", "Choose categories"))
    if message_type == Campaign.MessageType.LEAD and content.get("coupon"):
        screens.append(("coupon", "Coupon"))
    elif message_type in (Campaign.MessageType.LEAD, Campaign.MessageType.NPS, Campaign.MessageType.FEEDBACK) or (
        message_type == Campaign.MessageType.CART_RECOVERY and content.get("feedback")
    ):
        screens.append(("thanks", "Thank-you"))
    return screens
