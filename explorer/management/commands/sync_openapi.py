"""``manage.py sync_openapi [--source PATH_OR_URL] [--reset]``: cache the Clockify OpenAPI document
(default: Clockify's published one, ``CLOCKIFY_OPENAPI_SOURCE``), now rather than at the next hourly check."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from explorer.catalog import CatalogError
from explorer.services import openapi_reset, openapi_sync


class Command(BaseCommand):
    help = "Load the OpenAPI document from CLOCKIFY_OPENAPI_SOURCE (or --source), compile it and cache it."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--source", help="A file path or http(s) URL; default: CLOCKIFY_OPENAPI_SOURCE.")
        parser.add_argument("--reset", action="store_true", help="Drop the cache: use the bundled catalogue.")

    def handle(self, *args, source: str | None = None, reset: bool = False, **options) -> None:
        if reset:
            deleted = openapi_reset()
            self.stdout.write(f"Dropped {deleted} cached document(s); the bundled catalogue is active.")
            return
        try:
            result = openapi_sync(source=source)
        except CatalogError as exc:
            raise CommandError(f"sync failed, the active catalogue is unchanged: {exc}") from None
        if result.document_id is None:
            self.stdout.write("CLOCKIFY_OPENAPI_SOURCE is 'bundled': the bundled catalogue is active.")
        elif result.changed:
            self.stdout.write(f"Synced {result.operation_count} operations from {result.source}.")
        else:
            self.stdout.write(f"Unchanged: {result.operation_count} operations from {result.source}.")
