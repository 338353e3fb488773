"""Clockify token verification: the one module that decides whether a Clockify JWT is genuine,
and what kind of token it is.

RS256 only. Clockify's published key by default; ``CLOCKIFY_PUBLIC_KEY`` (PEM text) or
``CLOCKIFY_PUBLIC_KEY_FILE`` replaces it. Every rejection carries a reason key for logs and
metrics and never echoes the token.

Clockify signs four kinds of token with the same key, ``iss``, ``type`` and ``sub``; only their
claims tell them apart (``token_kind``). Every workspace member holds a user token, so each
endpoint states the kinds it accepts (``accept=``, one of the ``ACCEPTS_*`` sets below) and a
genuine token of another kind is refused as ``wrong_token_kind``:

=====================  ===============================================  ===========================
kind                   claims                                           accepted by
=====================  ===============================================  ===========================
user                   ``workspaceRole``/``language``/``theme``, or      iframe pages, page XHRs,
                       ``user`` with ``exp`` (iframe ``auth_token``)     the JSON API
installation           ``user`` and/or API URL claims, no ``exp``        INSTALLED ``authToken`` only
lifecycle              none of the above, with ``exp``                  the four lifecycle endpoints
webhook                none of the above, no ``exp`` (never expires)    Clockify webhook endpoints
                                                                        (and INSTALLED ``webhooks``)
unknown                anything else (e.g. URL claims with ``exp``)     nothing
=====================  ===============================================  ===========================

Custom webhooks accept no Clockify token at all (they are HMAC-signed by their sender).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.conf import settings

from addons.metrics import TOKEN_REJECTIONS

logger = logging.getLogger("addons.tokens")

CLOCKIFY_PUBLISHED_KEY_PATH = Path(__file__).resolve().parent / "keys" / "clockify-public-key.pem"


class TokenError(Exception):
    """A rejected token. ``reason`` is a stable key (``bad_signature``, ``expired``, ...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TokenKind(str, Enum):
    USER = "user"
    INSTALLATION = "installation"
    LIFECYCLE = "lifecycle"
    WEBHOOK = "webhook"
    UNKNOWN = "unknown"


URL_CLAIMS = frozenset({"backendUrl", "reportsUrl", "locationsUrl", "screenshotsUrl", "ptoUrl"})
USER_ONLY_CLAIMS = frozenset({"workspaceRole", "language", "theme"})

# What each endpoint accepts (see the table above).
ACCEPTS_LIFECYCLE = frozenset({TokenKind.LIFECYCLE})
ACCEPTS_INSTALLATION = frozenset({TokenKind.INSTALLATION})  # INSTALLED's authToken
ACCEPTS_WEBHOOK = frozenset({TokenKind.WEBHOOK})  # webhook endpoints, INSTALLED's webhooks[].authToken
ACCEPTS_USER = frozenset({TokenKind.USER})  # iframe pages, page XHRs, the JSON API


def token_kind(claims: dict[str, Any]) -> TokenKind:
    """The kind of a (verified) Clockify token, from its claims alone."""
    expires = "exp" in claims
    if USER_ONLY_CLAIMS & claims.keys():
        return TokenKind.USER if expires else TokenKind.UNKNOWN  # a user token always expires
    if "user" in claims:
        return TokenKind.USER if expires else TokenKind.INSTALLATION
    if URL_CLAIMS & claims.keys():
        return TokenKind.UNKNOWN if expires else TokenKind.INSTALLATION
    return TokenKind.LIFECYCLE if expires else TokenKind.WEBHOOK


@dataclass(frozen=True)
class VerifiedToken:
    claims: dict[str, Any]

    @property
    def kind(self) -> TokenKind:
        return token_kind(self.claims)

    @property
    def workspace_id(self) -> str:
        return str(self.claims.get("workspaceId", ""))

    @property
    def addon_id(self) -> str:
        return str(self.claims.get("addonId", ""))

    @property
    def user_id(self) -> str:
        return str(self.claims.get("user", ""))


def _public_key_pem() -> str:
    if settings.CLOCKIFY_PUBLIC_KEY:
        return settings.CLOCKIFY_PUBLIC_KEY
    if settings.CLOCKIFY_PUBLIC_KEY_FILE:
        return Path(settings.CLOCKIFY_PUBLIC_KEY_FILE).read_text()
    return CLOCKIFY_PUBLISHED_KEY_PATH.read_text()


@lru_cache(maxsize=8)
def _load_key(pem: str) -> Any:
    return load_pem_public_key(pem.replace("\\n", "\n").strip().encode())


def public_key() -> Any:
    return _load_key(_public_key_pem())


def verify_clockify_token(
    token: str | None,
    *,
    expected_sub: str,
    accept: frozenset[TokenKind],
    workspace_id: str | None = None,
    addon_id: str | None = None,
    log_context: dict[str, Any] | None = None,
) -> VerifiedToken:
    """Verify a Clockify token of one of the ``accept`` kinds, or raise ``TokenError`` with a reason key.

    Checks: RS256 signature, ``iss == clockify``, ``type == addon``, ``sub == expected_sub``,
    ``exp`` when present (small leeway), ``workspaceId`` / ``addonId`` when given, then the kind.
    """
    kind = None
    try:
        verified = _verify(token, expected_sub=expected_sub, workspace_id=workspace_id, addon_id=addon_id)
        kind = verified.kind
        if kind not in accept:
            raise TokenError("wrong_token_kind")
        return verified
    except TokenError as exc:
        TOKEN_REJECTIONS.labels(reason=exc.reason).inc()
        extra = {"reason": exc.reason, **(log_context or {})}
        if kind is not None:
            extra["token_kind"] = kind.value
        logger.info("token_rejected", extra=extra)
        raise


def _verify(token: str | None, *, expected_sub: str, workspace_id: str | None, addon_id: str | None) -> VerifiedToken:
    if not token:
        raise TokenError("missing_token")
    if settings.REQUIRE_SIGNATURE_VERIFICATION:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise TokenError("malformed_token") from None
        if header.get("alg") != "RS256":
            raise TokenError("bad_algorithm")
        try:
            claims = jwt.decode(
                token,
                key=public_key(),
                algorithms=["RS256"],
                leeway=settings.CLOCKIFY_TOKEN_LEEWAY_SECONDS,
                options={"require": [], "verify_aud": False, "verify_iss": False, "verify_sub": False},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("expired") from None
        except jwt.InvalidSignatureError:
            raise TokenError("bad_signature") from None
        except jwt.InvalidTokenError:
            raise TokenError("malformed_token") from None
    else:
        # Dev-only escape hatch (warned about at every start): claims are read, never trusted.
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            raise TokenError("malformed_token") from None
    if not isinstance(claims, dict):
        raise TokenError("malformed_token")
    if claims.get("iss") != "clockify":
        raise TokenError("bad_issuer")
    if claims.get("type") != "addon":
        raise TokenError("bad_type")
    if claims.get("sub") != expected_sub:
        raise TokenError("wrong_addon_key")
    if workspace_id is not None and str(claims.get("workspaceId", "")) != workspace_id:
        raise TokenError("workspace_mismatch")
    if addon_id is not None and str(claims.get("addonId", "")) != addon_id:
        raise TokenError("addon_mismatch")
    return VerifiedToken(claims=claims)
