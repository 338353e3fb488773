from django.apps import AppConfig


class AddonsConfig(AppConfig):
    name = "addons"
    verbose_name = "Add-on variants"

    def ready(self) -> None:
        # The platform's setting checks (production requirements, escape hatches refused unless
        # DEBUG); run by manage.py, the WSGI/ASGI app and the Celery worker (config.startup).
        from config import checks  # noqa: F401
