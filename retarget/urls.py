from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from retarget.views import healthz, readyz

handler404 = "retarget.views.not_found"
handler500 = "retarget.views.server_error"

admin.site.site_header = "Retarget"
admin.site.site_title = "Retarget"
admin.site.index_title = "Sites, campaigns and results"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz),
    path("readyz", readyz),
    # The widget's public endpoints first: they are the hot path, matched before the API's many patterns.
    path("", include("widget.urls")),
    path("", include("campaigns.urls")),
]
if settings.DEMO:
    urlpatterns.insert(0, path("", RedirectView.as_view(url="/demo/", permanent=False)))
