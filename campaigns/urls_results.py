"""Results API routes. Included from campaigns/urls.py (namespace "campaigns")."""

from django.urls import path

from campaigns.api import results as api

urlpatterns = [
    path("api/campaigns/<int:pk>/results/", api.CampaignResultsApi.as_view(), name="campaign-results"),
    path("api/campaigns/<int:pk>/nps/", api.CampaignNpsApi.as_view(), name="campaign-nps"),
    path("api/campaigns/<int:pk>/nps/responses/", api.CampaignNpsResponseListApi.as_view(),
         name="campaign-nps-responses"),
    path("api/campaigns/<int:pk>/feedback/", api.CampaignFeedbackApi.as_view(), name="campaign-feedback"),
    path("api/campaigns/<int:pk>/feedback/responses/", api.CampaignFeedbackResponseListApi.as_view(),
         name="campaign-feedback-responses"),
    path("api/campaigns/<int:pk>/leads/", api.CampaignLeadListApi.as_view(), name="campaign-leads"),
    path("api/campaigns/<int:pk>/export/results.csv", api.CampaignResultsCsvApi.as_view(),
         name="campaign-export-results"),
    path("api/campaigns/<int:pk>/export/nps.csv", api.CampaignNpsCsvApi.as_view(), name="campaign-export-nps"),
    path("api/campaigns/<int:pk>/export/feedback.csv", api.CampaignFeedbackCsvApi.as_view(),
         name="campaign-export-feedback"),
    path("api/campaigns/<int:pk>/export/leads.csv", api.CampaignLeadsCsvApi.as_view(), name="campaign-export-leads"),
    path("api/sites/<int:pk>/consent/", api.SiteConsentApi.as_view(), name="site-consent"),
    path("api/stats/calculate", api.StatsCalculateApi.as_view(), name="stats-calculate"),
]
