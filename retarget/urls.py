from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from retarget.views import healthz

admin.site.site_header = "Retarget"
admin.site.site_title = "Retarget"
admin.site.index_title = "Sites, campaigns and results"

urlpatterns = [
    path("", RedirectView.as_view(url="/demo/", permanent=False)),
    path("admin/", admin.site.urls),
    path("healthz", healthz),
    path("", include("campaigns.urls")),
    path("", include("widget.urls")),
]
