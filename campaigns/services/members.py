"""Who helps run a site: the owner invites by exact username or e-mail address; the invitee accepts or declines.

An owner never browses the installation's users: an invitation names one account exactly, and the answer to
the owner is the same whether such an account exists or not.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from campaigns.models import Site, SiteInvitation

ERROR_NOT_OWNER = "only the site's owner manages its members"
ERROR_EMPTY = "type the exact username or e-mail address of the person to invite"
ERROR_NOT_YOURS = "this invitation is not addressed to you"
ERROR_ANSWERED = "this invitation was already answered"


def _account_named(invitee: str):
    """The one active staff account whose username, or else e-mail address, is exactly what was typed."""
    users = get_user_model().objects.filter(is_active=True, is_staff=True)
    by_name = users.filter(username=invitee).first()
    if by_name is not None:
        return by_name
    matches = list(users.filter(email__iexact=invitee)[:2]) if "@" in invitee else []
    return matches[0] if len(matches) == 1 else None


def site_member_invite(*, site: Site, invited_by, invitee: str) -> SiteInvitation:
    """A pending invitation (an earlier pending one for the same text is kept, not doubled)."""
    if not (invited_by.is_superuser or site.owner_id == invited_by.id):
        raise PermissionDenied(ERROR_NOT_OWNER)
    invitee = invitee.strip()
    if not invitee:
        raise ValidationError(ERROR_EMPTY)
    user = _account_named(invitee)
    if user is not None and (user.id == site.owner_id or site.members.filter(id=user.id).exists()):
        user = None  # already on the site: nothing to accept, and the owner learns nothing new
    invitation, _created = SiteInvitation.objects.get_or_create(
        site=site, invitee=invitee, answered_at=None, defaults={"invited_by": invited_by, "user": user}
    )
    return invitation


def invitations_pending(*, user):
    return SiteInvitation.objects.filter(user=user, answered_at=None).select_related("site", "invited_by")


@transaction.atomic
def site_invitation_answer(*, invitation_id: int, user, accept: bool) -> SiteInvitation:
    invitation = SiteInvitation.objects.select_for_update().filter(id=invitation_id).first()
    if invitation is None or invitation.user_id != user.id:
        raise PermissionDenied(ERROR_NOT_YOURS)
    if invitation.answered_at is not None:
        raise ValidationError(ERROR_ANSWERED)
    invitation.answered_at = timezone.now()
    invitation.accepted = accept
    invitation.save(update_fields=["answered_at", "accepted"])
    if accept:
        invitation.site.members.add(user)
    return invitation
