from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The read-only admins build on campaigns.admin; registered from here so that admin need not import them.
        from campaigns import admin_events, signals  # noqa: F401

        signals.connect()
