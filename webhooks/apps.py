from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"

    def ready(self) -> None:
        from installations import hooks, signals
        from installations.retention import register_retention_policy
        from webhooks import receivers
        from webhooks.services.retention import WEBHOOK_EVENTS_RETENTION

        # `manage.py retention` and its hourly task purge the event log with everything else.
        register_retention_policy(WEBHOOK_EVENTS_RETENTION)
        # The API-only events' workspace webhooks follow the installation's settings and status.
        for name in ("installation_installed", "installation_settings_updated", "installation_status_changed"):
            getattr(signals, name).connect(receivers.request_workspace_webhooks_sync,
                                           dispatch_uid=f"webhooks.workspace_webhooks.{name}")
        hooks.register_before_delete(receivers.remove_workspace_webhooks_before_delete)
