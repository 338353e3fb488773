from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "flows"

    def ready(self) -> None:
        from webhooks.extensions import register_processor

        from flows.processor import start_flows_for_event

        register_processor("flows", start_flows_for_event)

        from installations.retention import register_retention_policy

        from flows.services.runs import flow_runs_retention_policy

        # `manage.py retention` and its hourly task purge runs with everything else.
        register_retention_policy(flow_runs_retention_policy())
