"""GET /api/w/<public_key>/magnet/<token>: a lead magnet's file, served only through the signed, short-lived link
that collect answered to the request that stored the lead (campaigns/ingest/magnets.py).

The file is sent as an attachment that no browser renders or caches (Content-Disposition: attachment, nosniff,
no-store, a sandboxing CSP); a file kept elsewhere is a redirect to its URL, which the link hides from the public
config. An expired link answers 410, a forged or altered one, or one used under another site's key, 403.
"""

from pathlib import PurePath

from django.http import FileResponse, HttpResponseRedirect
from django.urls import reverse

from campaigns.ingest.collect import collect_site_get
from campaigns.ingest.magnets import ERROR_LINK_INVALID, LinkRefused, magnet_token_read
from campaigns.models import Asset
from widget.api.responses import django_response, error_response, method_not_allowed_reply

ERROR_UNKNOWN_SITE = "unknown site key"
ERROR_GONE = "this file is no longer available"
# No copy anywhere but the visitor's download folder: the link is personal and short-lived.
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
ATTACHMENT = {**PRIVATE, "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox"}


def magnet_path(*, public_key: str, token: str) -> str:
    """The link's path on this server (the widget resolves it against the URL it posted the batch to)."""
    return reverse("widget:magnet", kwargs={"public_key": public_key, "token": token})


def magnet_download_api(request, public_key: str, token: str):
    if request.method != "GET":
        return django_response(method_not_allowed_reply(allow="GET", headers=PRIVATE))
    ingest = collect_site_get(public_key=public_key)
    if ingest is None:
        return error_response(404, ERROR_UNKNOWN_SITE, headers=PRIVATE)
    try:
        link = magnet_token_read(token)
    except LinkRefused as refused:
        return error_response(410 if refused.expired else 403, str(refused), headers=PRIVATE)
    if link.site_id != ingest.site_id:
        return error_response(403, ERROR_LINK_INVALID, headers=PRIVATE)
    asset = Asset.objects.filter(id=link.asset_id, site_id=link.site_id, site__campaigns__id=link.campaign_id).first()
    if asset is None:
        return error_response(404, ERROR_GONE, headers=PRIVATE)
    if asset.url:
        return HttpResponseRedirect(asset.url, headers=PRIVATE)
    try:
        handle = asset.file.open("rb")
    except (FileNotFoundError, ValueError):
        return error_response(404, ERROR_GONE, headers=PRIVATE)
    return FileResponse(handle, as_attachment=True, filename=PurePath(asset.file.name).name, headers=ATTACHMENT)
