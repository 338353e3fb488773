from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"

    def ready(self) -> None:
        from installations.retention import register_retention_policy
        from webhooks.services.retention import WEBHOOK_EVENTS_RETENTION

        # `manage.py retention` and its hourly task purge the event log with everything else.
        register_retention_policy(WEBHOOK_EVENTS_RETENTION)
