"""Lookups of the other apps' models and functions the pages render.

The pages are built alongside the features they show; a piece that is not in this build yet
resolves to ``None`` and the page shows a "not available yet" state instead of failing.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.apps import apps


def model(app_label: str, name: str) -> Any | None:
    try:
        return apps.get_model(app_label, name)
    except LookupError:
        return None


def function(module: str, name: str) -> Any | None:
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def first_function(*candidates: tuple[str, str]) -> Any | None:
    """The first of several (module, name) spellings that exists."""
    for module, name in candidates:
        found = function(module, name)
        if found is not None:
            return found
    return None


def url_exists(path: str) -> bool:
    """Whether a JSON API path (e.g. ``/api-studio/api/v1/flows``) is routed in this build."""
    from django.urls import Resolver404, resolve

    try:
        resolve(path)
    except Resolver404:
        return False
    return True
