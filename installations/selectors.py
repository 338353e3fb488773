"""Installation reads."""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings

from addons.variants import ALL_SETTING_SPECS, Variant
from addons.settings_schema import SettingValueError
from installations import crypto
from installations.models import Installation, InstallationStatus


def installation_get(*, variant: Variant, workspace_id: str) -> Installation | None:
    return Installation.objects.filter(variant=variant.slug, workspace_id=workspace_id).first()


def installation_get_live(*, variant: Variant, workspace_id: str) -> Installation | None:
    """The installation unless it was deleted."""
    return (
        Installation.objects.filter(variant=variant.slug, workspace_id=workspace_id)
        .exclude(status=InstallationStatus.DELETED)
        .first()
    )


def installation_token(*, installation: Installation) -> str:
    """The decrypted installation token (X-Addon-Token). Never log it."""
    if not installation.token_encrypted:
        raise crypto.DecryptionError("installation has no token (deleted)")
    return crypto.decrypt(installation.token_encrypted)


def effective_settings(*, installation: Installation) -> dict[str, Any]:
    """Installation settings over ``ADDON_DEFAULT_<ID>`` environment defaults over registry defaults.

    Every known setting id is present, also those the variant does not expose (they keep their
    defaults), so callers can ask for any setting without knowing the variant.
    """
    own_specs = installation.variant_spec.setting_specs
    result: dict[str, Any] = {}
    for spec_id, spec in ALL_SETTING_SPECS.items():
        value = spec.default
        env_default = django_settings.ADDON_SETTING_DEFAULTS.get(spec_id)
        if env_default is not None:
            try:
                value = spec.coerce(env_default)
            except SettingValueError:
                pass  # a bad env default keeps the registry default; checked by the `check` framework
        if spec_id in own_specs and spec_id in installation.settings:
            value = installation.settings[spec_id]
        result[spec_id] = value
    return result
