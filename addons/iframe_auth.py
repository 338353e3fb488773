"""Authentication of the iframe pages and of the JSON API behind them.

Clockify opens our pages with ``?auth_token=<user JWT>`` (30 minutes, claims ``workspaceId``,
``addonId``, ``user``, ``workspaceRole``, ``theme``, ``language`` and the API URLs). The pages
pass it on to XHRs as ``Authorization: Bearer <token>``. Every request is verified on its own:
no cookies, no sessions. The token must name a live installation of the variant in the URL.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import wraps
from typing import Any, Callable

from django.http import HttpRequest, JsonResponse
from rest_framework import authentication, exceptions, permissions

from addons.tokens import ACCEPTS_USER, TokenError, verify_clockify_token
from addons.variants import Variant
from installations.models import Installation, InstallationStatus

logger = logging.getLogger("addons.iframe_auth")

# Clockify's workspace roles that manage the add-on; every other role (TEAM_MANAGER,
# PROJECT_MANAGER, USER, ...) reads. Clockify names its admins WORKSPACE_ADMIN (ADMIN in some tokens).
ADMIN_ROLES = frozenset({"OWNER", "WORKSPACE_ADMIN", "ADMIN"})


class IframeAuthError(Exception):
    def __init__(self, reason: str, status: int = 401) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class IframeUser:
    """The Clockify user viewing a page, with the installation their token belongs to."""

    variant: Variant
    installation: Installation
    claims: dict[str, Any]
    token: str

    # DRF and Django treat this object as the request's user.
    is_authenticated = True
    is_anonymous = False

    @property
    def user_id(self) -> str:
        return str(self.claims.get("user", ""))

    @property
    def role(self) -> str:
        return str(self.claims.get("workspaceRole", "") or "")

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES

    @property
    def theme(self) -> str:
        return "DARK" if str(self.claims.get("theme", "")).upper() == "DARK" else "DEFAULT"

    @property
    def language(self) -> str:
        return str(self.claims.get("language", "EN") or "EN")

    @property
    def workspace_id(self) -> str:
        return self.installation.workspace_id

    @property
    def pk(self) -> str:  # for code that expects a user primary key (throttles, logs)
        return f"{self.installation.pk}:{self.user_id}"


def token_from_request(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.headers.get("X-Addon-Token") or request.GET.get("auth_token") or None


def authenticate_iframe_user(request: HttpRequest, variant: Variant) -> IframeUser:
    """Verify the user token and load its installation, or raise ``IframeAuthError``."""
    token = token_from_request(request)
    try:  # only a user token: never the installation's, a lifecycle or a webhook token
        verified = verify_clockify_token(token, expected_sub=variant.key, accept=ACCEPTS_USER,
                                         log_context={"variant": variant.slug, "endpoint": "page"})
    except TokenError as exc:
        raise IframeAuthError(exc.reason) from None
    installation = (
        Installation.objects.filter(variant=variant.slug, workspace_id=verified.workspace_id)
        .exclude(status=InstallationStatus.DELETED)
        .first()
    )
    if installation is None:
        raise IframeAuthError("unknown_installation")
    if installation.addon_id != verified.addon_id:
        raise IframeAuthError("addon_mismatch")
    return IframeUser(variant=variant, installation=installation, claims=verified.claims, token=token or "")


class IframeTokenAuthentication(authentication.BaseAuthentication):
    """DRF authentication by the iframe user token; the URL's ``variant`` kwarg picks the add-on."""

    def authenticate(self, request):
        variant = request.parser_context["kwargs"].get("variant")
        if variant is None:
            raise exceptions.AuthenticationFailed("no add-on in the URL")
        try:
            user = authenticate_iframe_user(request._request, variant)
        except IframeAuthError as exc:
            raise exceptions.AuthenticationFailed(exc.reason) from None
        return user, user.token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="clockify-addon"'


class IsIframeUser(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, IframeUser)


class IsWorkspaceAdmin(permissions.BasePermission):
    """OWNER or (WORKSPACE_)ADMIN of the workspace."""

    message = "This action needs a workspace OWNER or ADMIN."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, IframeUser) and request.user.is_admin


class IframeAPIMixin:
    """Base for DRF views behind the pages: user-token auth, scoped to ``self.installation``."""

    authentication_classes = [IframeTokenAuthentication]
    permission_classes = [IsIframeUser]

    @property
    def iframe_user(self) -> IframeUser:
        return self.request.user  # type: ignore[attr-defined]

    @property
    def installation(self) -> Installation:
        return self.iframe_user.installation


def iframe_json_view(view: Callable[..., Any]) -> Callable[..., Any]:
    """For plain Django JSON views: verify the user token, set ``request.iframe_user``."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, variant: Variant, **kwargs: Any):
        try:
            request.iframe_user = authenticate_iframe_user(request, variant)  # type: ignore[attr-defined]
        except IframeAuthError as exc:
            return JsonResponse({"error": exc.reason}, status=exc.status)
        return view(request, *args, variant=variant, **kwargs)

    return wrapper


try:  # describe the token authentication in the served OpenAPI schema
    from drf_spectacular.extensions import OpenApiAuthenticationExtension

    class IframeTokenAuthenticationScheme(OpenApiAuthenticationExtension):
        target_class = "addons.iframe_auth.IframeTokenAuthentication"
        name = "ClockifyUserToken"

        def get_security_definition(self, auto_schema):
            return {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "The Clockify user token the iframe page received as ?auth_token= "
                               "(RS256, 30 minutes; workspaceRole OWNER/ADMIN for changes).",
            }
except ImportError:  # pragma: no cover - drf-spectacular is a pinned dependency
    pass
