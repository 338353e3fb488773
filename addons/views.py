from __future__ import annotations

from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404, HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from addons.manifest import build_manifest
from addons.variants import Variant


@require_GET
def manifest(request: HttpRequest, variant: Variant) -> JsonResponse:
    return JsonResponse(build_manifest(variant), json_dumps_params={"indent": 2})


@require_GET
def icon(request: HttpRequest, variant: Variant) -> FileResponse:
    """The manifest's ``iconPath`` (relative to the variant's baseUrl), from static/addons/."""
    found = finders.find(f"addons/{variant.slug}.svg")
    if not found:
        raise Http404("no icon")
    response = FileResponse(open(found, "rb"), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
