from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The tasks register with Celery in every process, not only in workers: the nudge queues the drain by name.
        from campaigns import signals, tasks  # noqa: F401

        signals.connect()
