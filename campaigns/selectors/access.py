"""Reads: what a user may see (the sites they own or belong to, and those sites' campaigns)."""

from campaigns.models import Campaign, Site


def sites_for_user(*, user):
    return Site.objects.for_user(user)


def campaigns_for_user(*, user):
    return Campaign.objects.filter(site__in=Site.objects.for_user(user).values("id"))
