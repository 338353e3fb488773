"""The stand-in's side of Clockify's tokens: its own RSA key pair and a token minter.

The platform trusts these tokens only when given the stand-in's public key through
``CLOCKIFY_PUBLIC_KEY`` (or ``CLOCKIFY_PUBLIC_KEY_FILE``). The key pair is generated once per
key folder (``STANDIN_KEY_DIR``, default ``var/standin-keys``) and reused, so a running
platform and a restarted stand-in keep agreeing.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

DEFAULT_KEY_DIR = Path(__file__).resolve().parent.parent / "var" / "standin-keys"


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_pem: str


def generate_key_pair() -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return KeyPair(private_pem, public_pem)


@lru_cache(maxsize=4)
def load_or_create_key_pair(key_dir: str | None = None) -> KeyPair:
    folder = Path(key_dir or os.environ.get("STANDIN_KEY_DIR") or DEFAULT_KEY_DIR)
    private_path, public_path = folder / "private.pem", folder / "public.pem"
    if private_path.exists() and public_path.exists():
        return KeyPair(private_path.read_text(), public_path.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    pair = generate_key_pair()
    private_path.write_text(pair.private_pem)
    private_path.chmod(0o600)
    public_path.write_text(pair.public_pem)
    return pair


@lru_cache(maxsize=16)
def _load_private_key(pem: str) -> Any:
    # Parsing (and validating) an RSA PEM costs ~35 ms; signing with a loaded key ~0.3 ms.
    return serialization.load_pem_private_key(pem.encode(), password=None)


class TokenMinter:
    """Mints Clockify-shaped RS256 tokens: installation, webhook, lifecycle and user tokens."""

    def __init__(self, private_pem: str, *, addon_key: str, workspace_id: str, addon_id: str,
                 backend_url: str = "http://127.0.0.1:8100/api") -> None:
        self.private_pem = private_pem
        self.addon_key = addon_key
        self.workspace_id = workspace_id
        self.addon_id = addon_id
        self.backend_url = backend_url.rstrip("/")

    def sign(self, claims: dict[str, Any], *, algorithm: str = "RS256", key: str | None = None) -> str:
        if key is not None:
            return jwt.encode(claims, _load_private_key(key) if algorithm == "RS256" else key, algorithm=algorithm)
        return jwt.encode(claims, _load_private_key(self.private_pem), algorithm=algorithm)

    def base_claims(self, **overrides: Any) -> dict[str, Any]:
        claims = {
            "iss": "clockify",
            "type": "addon",
            "sub": self.addon_key,
            "workspaceId": self.workspace_id,
            "addonId": self.addon_id,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def url_claims(self) -> dict[str, str]:
        root = self.backend_url.rsplit("/api", 1)[0] if self.backend_url.endswith("/api") else self.backend_url
        return {
            "backendUrl": self.backend_url,
            "reportsUrl": f"{root}/reports",
            "locationsUrl": f"{root}/locations",
            "screenshotsUrl": f"{root}/screenshots",
            "ptoUrl": f"{root}/pto",
        }

    def installation_token(self, *, user_id: str = "owner-user", **overrides: Any) -> str:
        return self.sign(self.base_claims(user=user_id, iat=int(time.time()), **self.url_claims(), **overrides))

    def webhook_token(self, **overrides: Any) -> str:
        # Clockify's webhook tokens do not expire.
        return self.sign(self.base_claims(**overrides))

    def lifecycle_token(self, *, ttl_seconds: int = 300, **overrides: Any) -> str:
        now = int(time.time())
        return self.sign(self.base_claims(iat=now, exp=now + ttl_seconds, **overrides))

    def user_token(self, *, user_id: str = "owner-user", role: str = "OWNER", ttl_seconds: int = 1800,
                   theme: str = "DEFAULT", language: str = "EN", **overrides: Any) -> str:
        now = int(time.time())
        return self.sign(
            self.base_claims(
                user=user_id, workspaceRole=role, theme=theme, language=language, iat=now, exp=now + ttl_seconds,
                **self.url_claims(), **overrides,
            )
        )


if __name__ == "__main__":  # `python -m clockify_standin.signing`: ensure the key pair, print the public key path
    import sys

    folder = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("STANDIN_KEY_DIR") or DEFAULT_KEY_DIR)
    load_or_create_key_pair(str(folder))
    print(folder / "public.pem")
