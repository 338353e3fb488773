"""``manage.py retention``: apply every retention setting (or the chosen kinds), in batches."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from installations.retention import retention_kinds, retention_run


class Command(BaseCommand):
    help = "Delete expired data: webhook events, flow runs, explorer calls, cached entities, deleted installations."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--kind", action="append", dest="kinds", default=None,
                            help="Only this kind (repeatable). Default: all.")
        parser.add_argument("--dry-run", action="store_true", help="Report counts without deleting.")
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument("--time-budget", type=float, default=None, help="Stop after this many seconds.")

    def handle(self, *args, kinds, dry_run, batch_size, time_budget, **options) -> None:
        known = retention_kinds()
        unknown = [k for k in kinds or [] if k not in known]
        if unknown:
            raise CommandError(f"unknown kind(s) {unknown}; choose from {known}")
        for result in retention_run(kinds=kinds, dry_run=dry_run, batch_size=batch_size,
                                    time_budget_seconds=time_budget):
            verb = "would delete" if dry_run else "deleted"
            tail = "" if result.complete else " (time budget spent; the rest waits for the next run)"
            self.stdout.write(f"{result.kind}: {verb} {result.count}{tail}")
