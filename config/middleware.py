"""Request context for logs (a request id echoed as X-Request-ID, the variant in the URL), and\nthe refusal of URLs carrying NUL bytes."""

from __future__ import annotations

import re
import uuid
from typing import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from addons.logging import bind_log_context, clear_log_context

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul_byte(request):
            # No id, filter or path of ours contains NUL, and PostgreSQL text refuses it (a 500
            # deep in a query). Refuse it once here for every view.
            return JsonResponse({"error": "bad_request", "detail": "NUL byte in URL"}, status=400)
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        clear_log_context()
        bind_log_context(request_id=request_id)
        try:
            response = self.get_response(request)
        finally:
            clear_log_context()
        response["X-Request-ID"] = request_id
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        variant = view_kwargs.get("variant")
        if variant is not None:
            bind_log_context(variant=variant.slug)
        return None


def _has_nul_byte(request: HttpRequest) -> bool:
    if "\x00" in request.path:
        return True
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists())
