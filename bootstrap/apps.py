from django.apps import AppConfig


class BootstrapConfig(AppConfig):
    name = "bootstrap"

    def ready(self) -> None:
        from bootstrap import receivers
        from bootstrap.services import cached_entity_apply_event
        from bootstrap.services.cache import CACHED_ENTITIES_RETENTION
        from installations import hooks, signals
        from installations.retention import register_retention_policy
        from webhooks.extensions import register_processor

        register_processor("entity_cache", cached_entity_apply_event)
        register_retention_policy(CACHED_ENTITIES_RETENTION)
        hooks.register_bootstrap_starter(receivers.start_for_admin)
        signals.installation_installed.connect(receivers.on_installed, dispatch_uid="bootstrap.on_installed")
        signals.installation_deleted.connect(receivers.on_deleted, dispatch_uid="bootstrap.on_deleted")
        signals.installation_status_changed.connect(receivers.on_status_changed,
                                                    dispatch_uid="bootstrap.on_status_changed")
