"""Delete webhook events older than each installation's retention (``webhook_log_retention_days``)."""

from django.core.management.base import BaseCommand

from webhooks.services import webhook_events_purge


class Command(BaseCommand):
    help = "Delete expired webhook events in batches, within a time budget."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=None)
        parser.add_argument("--time-budget", type=float, default=None, help="seconds (default from settings)")

    def handle(self, *args, **options):
        deleted = webhook_events_purge(batch_size=options["batch_size"], time_budget_seconds=options["time_budget"])
        self.stdout.write(f"deleted {deleted} webhook events")
