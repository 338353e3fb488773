"""Flow definitions: create, update (version bump), enable/disable, delete; test-run."""

from __future__ import annotations

import base64
import logging
import secrets
from typing import Any

from django.db import transaction
from django.db.models import F

from flows import conditions as cond
from flows.actions import StepError, build_request, installation_fields
from flows.definition import validate_flow, validate_secret_changes
from flows.models import Flow, FlowSecret
from flows.selectors import cache_lookup_for
from flows.ssrf import SSRFError, parse_target
from flows.templates import Context, TemplateError
from installations import crypto
from installations.models import Installation

logger = logging.getLogger("flows.services")


def _new_signing_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _secret_changes(data: Any) -> Any:
    return data.get("secrets") if isinstance(data, dict) else None


def _names_after(current: frozenset[str], changes: dict[str, str | None]) -> frozenset[str]:
    return frozenset((current - {n for n, v in changes.items() if v is None}) | {n for n, v in changes.items() if v})


def _secrets_apply(flow: Flow, changes: dict[str, str | None]) -> list[str]:
    """Set, replace or remove the flow's secrets; returns the names that changed."""
    stored = {s.name: s for s in flow.secrets.all()}
    changed = []
    for name, value in sorted(changes.items()):
        secret = stored.get(name)
        if value is None:
            if secret is not None:
                secret.delete()
                changed.append(name)
        elif secret is None:
            FlowSecret.objects.create(flow=flow, name=name, value_encrypted=crypto.encrypt(value))
            changed.append(name)
        elif crypto.decrypt(secret.value_encrypted) != value:
            secret.value_encrypted = crypto.encrypt(value)
            secret.save(update_fields=["value_encrypted", "updated_at"])
            changed.append(name)
    return changed


@transaction.atomic
def flow_create(*, installation: Installation, data: dict[str, Any], user_id: str = "") -> Flow:
    """Validate and store a new flow and its secrets (raises ``FlowValidationError`` naming the bad field)."""
    secrets = validate_secret_changes(_secret_changes(data))
    fields = validate_flow(data, installation=installation, secret_names=_names_after(frozenset(), secrets))
    flow = Flow.objects.create(
        installation=installation, created_by=user_id, updated_by=user_id,
        signing_secret_encrypted=crypto.encrypt(_new_signing_secret()), **fields,
    )
    _secrets_apply(flow, secrets)
    logger.info("flow_created", extra={"flow": flow.public_id, "workspace_id": installation.workspace_id})
    return flow


@transaction.atomic
def flow_update(*, flow: Flow, data: dict[str, Any], partial: bool = False, user_id: str = "") -> Flow:
    """Validate and apply a change (``secrets``: only the names given change); bumps the version."""
    flow = Flow.objects.select_for_update().get(pk=flow.pk)
    current = {"name": flow.name, "enabled": flow.enabled, **flow.definition()}
    current_names = frozenset(flow.secrets.values_list("name", flat=True))
    secrets = validate_secret_changes(_secret_changes(data), current_names=current_names)
    fields = validate_flow(data, installation=flow.installation, partial=partial, current=current,
                           secret_names=_names_after(current_names, secrets))
    changed = [name for name, value in fields.items() if getattr(flow, name) != value]
    changed += [f"secrets.{name}" for name in _secrets_apply(flow, secrets)]
    if changed:
        for name in changed:
            if name in fields:
                setattr(flow, name, fields[name])
        flow.updated_by = user_id
        flow.version = F("version") + 1
        flow.save()
        flow.refresh_from_db()
        logger.info("flow_updated", extra={"flow": flow.public_id, "version": flow.version, "fields": changed})
    return flow


@transaction.atomic
def flow_set_enabled(*, flow: Flow, enabled: bool, user_id: str = "") -> Flow:
    flow = Flow.objects.select_for_update().get(pk=flow.pk)
    if flow.enabled != enabled:
        flow.enabled = enabled
        flow.updated_by = user_id
        flow.version = F("version") + 1
        flow.save(update_fields=["enabled", "updated_by", "version", "updated_at"])
        flow.refresh_from_db()
        logger.info("flow_enabled" if enabled else "flow_disabled", extra={"flow": flow.public_id})
    return flow


def flow_delete(*, flow: Flow) -> None:
    """Delete a flow and its run history."""
    public_id = flow.public_id
    flow.delete()
    logger.info("flow_deleted", extra={"flow": public_id})


def flow_signing_secret(*, flow: Flow) -> str:
    """The Standard Webhooks secret receivers use to verify signed http actions."""
    if not flow.signing_secret_encrypted:
        return ""
    return crypto.decrypt(flow.signing_secret_encrypted)


def flow_test_run(*, installation: Installation, definition: dict[str, Any], event: Any,
                  event_type: str | None = None) -> dict[str, Any]:
    """What a run of ``definition`` on ``event`` would do, without sending anything.

    ``definition`` has already been validated. Later steps that use an earlier step's response
    show a ``<steps[N].response.path>`` placeholder in place of the value.
    """
    from installations.selectors import effective_settings

    effective = effective_settings(installation=installation)
    trigger = definition.get("trigger") or {}
    trigger_matched = None
    if event_type is not None and "events" in trigger:
        trigger_matched = event_type in trigger["events"]
    result = cond.evaluate(definition.get("conditions"), event)
    ctx = Context(event=event, installation=installation_fields(installation),
                  cache_lookup=cache_lookup_for(installation), preview=True)
    requests = []
    for index, action in enumerate(definition.get("actions") or []):
        entry: dict[str, Any] = {"step": index}
        try:
            prepared = build_request(action, ctx, installation=installation, effective=effective)
            entry.update(prepared.summary(redact=False))
            if prepared.action_type == "http" and "<steps[" not in prepared.url:
                parse_target(prepared.url, allowed_domains=str(effective.get("http_action_allowed_domains", "*")))
        except (TemplateError, StepError, SSRFError) as exc:
            entry["error"] = str(exc)
        requests.append(entry)
    return {
        "trigger_matched": trigger_matched,
        "conditions": result.as_dict(),
        "would_run": result.matched and trigger_matched is not False,
        "requests": requests,
        "sent": False,
    }
