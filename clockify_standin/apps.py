from django.apps import AppConfig


class ClockifyStandinConfig(AppConfig):
    name = "clockify_standin"
