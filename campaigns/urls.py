from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from campaigns.api import visitor_data
from campaigns.api.sites import CampaignDetailApi, CampaignListCreateApi, SiteDetailApi, SiteListCreateApi

app_name = "campaigns"

urlpatterns = [
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="campaigns:schema"), name="docs"),
    path("api/sites/", SiteListCreateApi.as_view(), name="site-list"),
    path("api/sites/<int:pk>/", SiteDetailApi.as_view(), name="site-detail"),
    path("api/campaigns/", CampaignListCreateApi.as_view(), name="campaign-list"),
    path("api/campaigns/<int:pk>/", CampaignDetailApi.as_view(), name="campaign-detail"),
    path("api/sites/<int:pk>/visitor-data/", visitor_data.SiteVisitorDataApi.as_view(), name="site-visitor-data"),
    path("api/sites/<int:pk>/visitor-data/export/", visitor_data.SiteVisitorDataExportApi.as_view(),
         name="site-visitor-data-export"),
    path("api/sites/<int:pk>/visitor-data/erase/", visitor_data.SiteVisitorDataEraseApi.as_view(),
         name="site-visitor-data-erase"),
    path("", include("campaigns.urls_results")),
]
