from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from campaigns.admin.overview import overview_view
from campaigns.gallery.admin_views import gallery_view
from retarget.views import healthz, readyz

handler404 = "retarget.views.not_found"
handler500 = "retarget.views.server_error"

admin.site.site_header = "Retarget"
admin.site.site_title = "Retarget"
admin.site.index_title = "Sites, campaigns and results"

urlpatterns = [
    # The template gallery, an admin page of its own (matched before the admin's catch-all object URLs).
    path("admin/campaigns/campaign/gallery/", admin.site.admin_view(gallery_view), name="campaigns-gallery"),
    # The front page: how each site's campaigns did, above Django's index (matched before it).
    path("admin/", admin.site.admin_view(overview_view), name="admin-overview"),
    path("admin/", admin.site.urls),
    path("healthz", healthz),
    path("readyz", readyz),
    # The widget's public endpoints first: they are the hot path, matched before the API's many patterns.
    path("", include("widget.urls")),
    path("", include("campaigns.urls")),
]
if settings.DEMO:
    urlpatterns.insert(0, path("", RedirectView.as_view(url="/demo/", permanent=False)))
