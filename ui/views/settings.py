"""Settings: a read-only view of the effective settings (the manifest uses Clockify's structured
settings, edited in Clockify's own settings screen)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from addons.iframe_auth import IframeUser
from installations.selectors import effective_settings
from ui.pages import iframe_page, page_context


def _display(spec, value) -> str:
    if spec.type == "CHECKBOX":
        return "On" if value else "Off"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(none)"
    return str(value)


@iframe_page
def settings_page(request: HttpRequest, user: IframeUser) -> HttpResponse:
    installation = user.installation
    values = effective_settings(installation=installation)
    layout = installation.variant_spec.settings_layout
    groups = [
        {
            "title": group.title,
            "description": group.description,
            "rows": [
                {
                    "spec": spec,
                    "value": _display(spec, values.get(spec.id)),
                    "is_default": values.get(spec.id) == spec.default,
                }
                for spec in group.settings
            ],
        }
        for group in layout.groups
    ]
    context = page_context(request, user, active="settings")
    context.update({"groups": groups, "tab_name": layout.tab_name})
    return render(request, "ui/settings.html", context)
