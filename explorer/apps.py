from django.apps import AppConfig


class ExplorerConfig(AppConfig):
    name = "explorer"

    def ready(self) -> None:
        from explorer.models import ExplorerCall
        from installations.retention import RetentionPolicy, register_retention_policy

        register_retention_policy(
            RetentionPolicy("explorer_calls", ExplorerCall, "created_at", "explorer_call_retention_days")
        )
