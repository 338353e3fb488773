"""URL scheme (DESIGN.md section 4): everything a variant serves lives under ``/<variant>/``.

Each app's ``urls`` module holds paths relative to the variant root (``manifest``,
``lifecycle/...``, ``webhooks/...``, ``ui/...``, ``api/v1/...``); views receive the
``Variant`` object as ``variant``.
"""

from django.contrib import admin
from django.urls import include, path, register_converter

from addons.converters import VariantConverter
from config import health, metrics

register_converter(VariantConverter, "variant")

variant_patterns = [
    path("", include("addons.urls")),
    path("", include("installations.urls")),
    path("", include("webhooks.urls")),
    path("", include("explorer.urls")),
    path("", include("flows.urls")),
    path("", include("bootstrap.urls")),
    path("", include("ui.urls")),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("<variant:variant>/", include(variant_patterns)),
]
