"""The Clockify API catalogue the explorer and flows use.

``get_catalog()`` returns the active ``Catalog`` (the synced document cached in the database, else
the bundled core catalogue); ``Catalog.get/resolve/search/tag_tree`` look operations up.
"""

from explorer.catalog.compiler import CatalogError, compile_document, document_sha256, parse_document
from explorer.catalog.source import BUNDLED_SOURCE, configured_source, read_source
from explorer.catalog.store import bundled_catalog, clear_catalog_cache, get_catalog
from explorer.catalog.types import HOSTS, READ_ONLY_METHODS, Catalog, Operation, Parameter

__all__ = [
    "BUNDLED_SOURCE", "HOSTS", "READ_ONLY_METHODS", "Catalog", "CatalogError", "Operation", "Parameter",
    "bundled_catalog", "clear_catalog_cache", "compile_document", "configured_source", "document_sha256",
    "get_catalog", "parse_document", "read_source",
]
