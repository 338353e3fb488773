from django.apps import AppConfig


class BootstrapConfig(AppConfig):
    name = "bootstrap"
