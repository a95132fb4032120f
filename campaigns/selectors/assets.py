"""Reads: the lead magnet files of a site, as a variant's content refers to them."""

from campaigns.content import magnet_of
from campaigns.models import Asset

ERROR_UNKNOWN_ASSET = ("{path}: this site has no file {ref!r}; add it under Campaigns → Lead magnet files, or name "
                       "one of: {expected}")


def site_assets_by_ref(*, site_id: int) -> dict[str, int]:
    """`asset:<name>` and `asset:<id>` -> the asset's id, for every file of the site (one query)."""
    refs: dict[str, int] = {}
    for asset_id, name in Asset.objects.filter(site_id=site_id).values_list("id", "name"):
        refs[f"asset:{name}"] = asset_id
        refs[f"asset:{asset_id}"] = asset_id
    return refs


def magnet_asset_errors(*, site_id: int | None, content: object, path: str = "content.magnet.asset",
                        refs: dict[str, int] | None = None) -> list[str]:
    """A lead magnet's file must be one of the campaign's site's own (checked after content_clean accepted the
    reference's form); `refs` saves the query when several variants are checked."""
    magnet = magnet_of(content)
    if magnet is None or site_id is None:
        return []
    refs = site_assets_by_ref(site_id=site_id) if refs is None else refs
    if magnet[0] in refs:
        return []
    names = sorted(ref for ref in refs if not ref[6:].isdigit())
    return [ERROR_UNKNOWN_ASSET.format(path=path, ref=magnet[0], expected=", ".join(names) or "none yet")]
