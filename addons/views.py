from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from addons.manifest import build_manifest
from addons.variants import Variant


@require_GET
def manifest(request: HttpRequest, variant: Variant) -> JsonResponse:
    return JsonResponse(build_manifest(variant), json_dumps_params={"indent": 2})
