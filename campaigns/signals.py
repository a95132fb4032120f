"""Cache invalidation only: any change to a site, a campaign, a variant, a lead magnet file, an audience or a page
group drops the site's config; a site saved or deleted changes the set of known public keys.

Signals catch every write path (admin, API, shell, queryset.update through services), which a
service-only hook would miss; they do no business logic.
"""

from functools import partial

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from campaigns.ingest.site_keys import site_keys_changed
from campaigns.ingest.site_map import site_ingest_forget
from campaigns.models import Asset, Audience, Campaign, PageGroup, Site, Variant
from campaigns.selectors.config import config_invalidate


def _public_key(instance) -> str | None:
    if isinstance(instance, Site):
        return instance.public_key
    if isinstance(instance, Asset | Audience | PageGroup):
        return Site.objects.filter(id=instance.site_id).values_list("public_key", flat=True).first()
    if isinstance(instance, Campaign):
        return Site.objects.filter(id=instance.site_id).values_list("public_key", flat=True).first()
    if isinstance(instance, Variant):
        return (
            Site.objects.filter(campaigns__id=instance.campaign_id).values_list("public_key", flat=True).first()
        )
    return None


def _invalidate(public_key: str) -> None:
    config_invalidate(public_key=public_key)
    site_ingest_forget(public_key=public_key)  # the collect endpoint's map of the site's campaign ids


def _changed(sender, instance, **kwargs) -> None:
    public_key = _public_key(instance)
    if public_key:
        _invalidate(public_key)
        # Drop it again after commit, so a request that read the old rows meanwhile cannot keep them cached.
        transaction.on_commit(partial(_invalidate, public_key))


def _site_keys_changed(sender, instance, **kwargs) -> None:
    site_keys_changed()
    # Again after commit: a process that loaded the keys before the commit loads them once more.
    transaction.on_commit(site_keys_changed)


def connect() -> None:
    post_save.connect(_site_keys_changed, sender=Site, dispatch_uid="site-keys-save")
    post_delete.connect(_site_keys_changed, sender=Site, dispatch_uid="site-keys-delete")
    for model in (Site, Campaign, Variant, Asset, Audience, PageGroup):
        post_save.connect(_changed, sender=model, dispatch_uid=f"config-{model.__name__}-save")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"config-{model.__name__}-delete")
