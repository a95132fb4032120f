"""Writes on lead magnet files."""

from django.core.exceptions import ValidationError
from django.core.files.base import File

from campaigns.models import Asset, Site


def asset_create(*, site: Site, name: str, title: str, file: File | None = None, url: str = "") -> Asset:
    """A file (stored under MEDIA_ROOT) or a URL of `site`, checked as the admin checks it (ValidationError)."""
    asset = Asset(site=site, name=name, title=title, url=url)
    if file is not None:
        asset.file.save(file.name, file, save=False)
    try:
        asset.full_clean()
    except ValidationError:
        if asset.file:
            asset.file.delete(save=False)  # no orphan under MEDIA_ROOT
        raise
    asset.save()
    return asset
