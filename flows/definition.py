"""Validation of the flow JSON shape (issue 6, item 2) against the installation's plan and settings.

Every error names the field it is about, in the dotted form the API returns
(``actions[1].operation``, ``conditions.rules[0].op``, ``trigger.events[2]``), so the pages can
put the message next to the input.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from addons.variants import Feature
from flows import conditions as cond
from flows import ssrf
from flows.templates import SECRET_NAME_RE, TemplateError, find_exprs

ACTION_TYPES = ("clockify", "http")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
MAX_ACTIONS = 20
MAX_RULES = 50
FLOW_FIELDS = {"name", "enabled", "trigger", "conditions", "actions"}
MAX_SECRETS = 20
SECRET_VALUE_LENGTH = (8, 4096)
_CLOCKIFY_KEYS = {"type", "operation", "params", "query", "body", "max_attempts"}
_HTTP_KEYS = {"type", "method", "url", "headers", "body", "sign", "max_attempts"}
_FORBIDDEN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection", "x-addon-token"})


class FlowValidationError(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _catalog(installation):
    from explorer.catalog import get_catalog

    return get_catalog(installation)


def _custom_source_exists(installation, public_id: str) -> bool:
    try:
        from webhooks.models import CustomSource
    except ImportError:  # a build without custom webhooks has no sources
        return False
    return CustomSource.objects.filter(installation=installation, public_id=public_id).exists()


def max_attempts_default() -> int:
    return int(getattr(settings, "FLOW_STEP_MAX_ATTEMPTS", 3))


def validate_flow(data: Any, *, installation, partial: bool = False, current: dict | None = None,
                  secret_names: frozenset[str] | None = None) -> dict[str, Any]:
    """Check a flow document; returns the normalised fields to store or raises ``FlowValidationError``.

    ``partial`` (PATCH) validates the fields given, merged over ``current``. ``secret_names``: the
    flow secrets the actions may use (``None``: a draft, whose secrets are not checked). The
    document's ``secrets`` (changes to them) are validated by ``validate_secret_changes``.
    """
    from installations.selectors import effective_settings

    errors: dict[str, str] = {}
    if not isinstance(data, dict):
        raise FlowValidationError({"non_field_errors": "expected a JSON object"})
    for key in sorted(set(data) - FLOW_FIELDS - {"id", "version", "created_at", "updated_at", "secrets"}):
        errors[key] = "unknown field"
    merged = {**(current or {}), **data} if partial else dict(data)
    variant = installation.variant_spec
    effective = effective_settings(installation=installation)

    name = merged.get("name")
    if not isinstance(name, str) or not name.strip():
        errors["name"] = "required: a non-empty string"
    elif len(name) > 200:
        errors["name"] = "at most 200 characters"
    enabled = merged.get("enabled", True)
    if not isinstance(enabled, bool):
        errors["enabled"] = "must be true or false"

    errors.update(_validate_trigger(merged.get("trigger"), installation=installation, variant=variant))
    conditions = merged.get("conditions")
    if conditions is None:
        conditions = {"mode": "all", "rules": []}
    errors.update(_validate_conditions(conditions))
    actions = merged.get("actions")
    errors.update(_validate_actions(actions, installation=installation, variant=variant, effective=effective,
                                    secret_names=secret_names))
    if errors:
        raise FlowValidationError(errors)
    return {
        "name": name.strip(),
        "enabled": enabled,
        "trigger": merged["trigger"],
        "conditions": {"mode": conditions.get("mode", "all"), "rules": list(conditions.get("rules") or [])},
        "actions": actions,
    }


def _validate_trigger(trigger: Any, *, installation, variant) -> dict[str, str]:
    if not isinstance(trigger, dict) or len(trigger) != 1 or not ({"events", "custom_source"} & set(trigger)):
        return {"trigger": 'required: {"events": [...]} or {"custom_source": "<id>"}'}
    if "events" in trigger:
        events = trigger["events"]
        if not isinstance(events, list) or not events:
            return {"trigger.events": "a non-empty list of event types"}
        for i, event in enumerate(events):
            if not isinstance(event, str) or not variant.subscribes(event):
                return {f"trigger.events[{i}]": f"{event!r} is not an event this add-on receives"}
        if len(set(events)) != len(events):
            return {"trigger.events": "lists an event twice"}
        return {}
    if not variant.allows(Feature.CUSTOM_SOURCE_TRIGGERS):
        return {"trigger.custom_source": "custom-source triggers are not available on this plan"}
    source = trigger["custom_source"]
    if not isinstance(source, str) or not source or not _custom_source_exists(installation, source):
        return {"trigger.custom_source": f"unknown custom source {source!r}"}
    return {}


def _validate_conditions(conditions: Any) -> dict[str, str]:
    if not isinstance(conditions, dict):
        return {"conditions": 'must be {"mode": "all"|"any", "rules": [...]}'}
    errors: dict[str, str] = {}
    for key in sorted(set(conditions) - {"mode", "rules"}):
        errors[f"conditions.{key}"] = "unknown field"
    if conditions.get("mode", "all") not in cond.MODES:
        errors["conditions.mode"] = "must be all or any"
    rules = conditions.get("rules", [])
    if not isinstance(rules, list):
        errors["conditions.rules"] = "must be a list"
        return errors
    if len(rules) > MAX_RULES:
        errors["conditions.rules"] = f"at most {MAX_RULES} rules"
    for i, rule in enumerate(rules):
        for key, message in cond.validate_rule(rule).items():
            errors[f"conditions.rules[{i}]" + (f".{key}" if key else "")] = message
    return errors


def validate_secret_changes(changes: Any, *, current_names: frozenset[str] = frozenset()) -> dict[str, str | None]:
    """``{"NAME": "value" (set or replace) | null (remove)}`` checked; a list (the names GET
    returns) means no change. Raises ``FlowValidationError`` naming ``secrets.NAME``."""
    if changes is None or isinstance(changes, list):
        return {}
    if not isinstance(changes, dict):
        raise FlowValidationError({"secrets": 'an object: {"NAME": "value"} sets or replaces, {"NAME": null} removes'})
    errors: dict[str, str] = {}
    low, high = SECRET_VALUE_LENGTH
    for name, value in changes.items():
        if not isinstance(name, str) or not SECRET_NAME_RE.match(name):
            errors[f"secrets.{name}"] = "a name of letters, digits and _ (at most 64), starting with a letter"
        elif value is not None and (not isinstance(value, str) or not low <= len(value) <= high
                                    or "\r" in value or "\n" in value):
            errors[f"secrets.{name}"] = f"a string of {low} to {high} characters on one line (or null to remove it)"
    kept = {n for n in current_names if changes.get(n, "") is not None} | {n for n, v in changes.items() if v}
    if len(kept) > MAX_SECRETS:
        errors["secrets"] = f"at most {MAX_SECRETS} secrets per flow"
    if errors:
        raise FlowValidationError(errors)
    return dict(changes)


def _check_templates(value: Any, field: str, index: int, errors: dict[str, str], *,
                     secrets: frozenset[str] | None = frozenset(), secrets_allowed: bool = False) -> None:
    try:
        exprs = find_exprs(value)
    except TemplateError as exc:
        errors[field] = str(exc)
        return
    for expr in exprs:
        if expr.root == "secrets":
            if not secrets_allowed:
                errors[field] = f"{{{{{expr.text}}}}}: flow secrets are for http actions only"
                return
            if secrets is not None and expr.path[0] not in secrets:
                errors[field] = f"{{{{{expr.text}}}}}: the flow has no secret {expr.path[0]} (add it under secrets)"
                return
        if expr.root == "steps" and expr.step is not None and expr.step >= index:
            errors[field] = (f"{{{{{expr.text}}}}} refers to step {expr.step}, which does not run before "
                             f"this step (step {index})")
            return


def _validate_actions(actions: Any, *, installation, variant, effective: dict[str, Any],
                      secret_names: frozenset[str] | None) -> dict[str, str]:
    if not isinstance(actions, list) or not actions:
        return {"actions": "a non-empty list of actions"}
    if len(actions) > MAX_ACTIONS:
        return {"actions": f"at most {MAX_ACTIONS} actions"}
    errors: dict[str, str] = {}
    for i, action in enumerate(actions):
        field = f"actions[{i}]"
        if not isinstance(action, dict):
            errors[field] = "must be an object"
            continue
        kind = action.get("type")
        if kind not in ACTION_TYPES:
            errors[f"{field}.type"] = f"unknown action type {kind!r}; one of {', '.join(ACTION_TYPES)}"
            continue
        allowed_keys = _CLOCKIFY_KEYS if kind == "clockify" else _HTTP_KEYS
        for key in sorted(set(action) - allowed_keys):
            errors[f"{field}.{key}"] = "unknown field"
        attempts = action.get("max_attempts", max_attempts_default())
        if not isinstance(attempts, int) or isinstance(attempts, bool) or not 1 <= attempts <= 10:
            errors[f"{field}.max_attempts"] = "an integer from 1 to 10"
        if kind == "clockify":
            _validate_clockify_action(action, field, i, installation, variant, errors)
        else:
            _validate_http_action(action, field, i, variant, effective, errors, secret_names)
    return errors


def _validate_clockify_action(action: dict, field: str, index: int, installation, variant,
                              errors: dict[str, str]) -> None:
    if not variant.allows(Feature.FLOW_CLOCKIFY_ACTIONS):
        errors[f"{field}.type"] = "clockify actions are not available on this plan"
        return
    ref = action.get("operation")
    operation = _catalog(installation).resolve(ref) if isinstance(ref, str) else None
    if operation is None:
        errors[f"{field}.operation"] = f"unknown operation {ref!r}"
        return
    if not variant.api_access.allows(operation.method, operation.path):
        errors[f"{field}.operation"] = f"{operation.operation_id} needs a scope this add-on does not hold"
        return
    for key in ("params", "query"):
        if key in action and not isinstance(action[key], dict):
            errors[f"{field}.{key}"] = "must be an object"
            return
    params = action.get("params") or {}
    names = set(operation.path_param_names)
    for name in sorted(set(params) - names):
        errors[f"{field}.params.{name}"] = f"not a path parameter of {operation.operation_id}"
    for name in operation.path_param_names:
        if name == "workspaceId":
            given = params.get(name)
            if given not in (None, installation.workspace_id, "{{installation.workspaceId}}"):
                errors[f"{field}.params.workspaceId"] = "flows act on their own workspace only"
        elif name not in params:
            errors[f"{field}.params.{name}"] = f"required by {operation.operation_id}"
    if operation.request_body_required and "body" not in action:
        errors[f"{field}.body"] = f"required by {operation.operation_id}"
    for key in ("params", "query", "body"):
        if key in action:
            _check_templates(action[key], f"{field}.{key}", index, errors)


def _validate_http_action(action: dict, field: str, index: int, variant, effective: dict[str, Any],
                          errors: dict[str, str], secret_names: frozenset[str] | None) -> None:
    if not variant.allows(Feature.FLOW_HTTP_ACTIONS):
        errors[f"{field}.type"] = "http actions are not available on this plan"
        return
    if not effective.get("enable_generic_http_actions"):
        errors[f"{field}.type"] = "http actions are off: turn on the enable_generic_http_actions setting"
        return
    method = action.get("method", "POST")
    if method not in HTTP_METHODS:
        errors[f"{field}.method"] = f"one of {', '.join(HTTP_METHODS)}"
    url = action.get("url")
    if not isinstance(url, str) or not url:
        errors[f"{field}.url"] = "required: an http(s) URL"
    else:
        start = url.find("{{")
        origin_end = url.find("/", url.find("://") + 3) if "://" in url else -1
        if start != -1 and (origin_end == -1 or start < origin_end):
            errors[f"{field}.url"] = "the scheme and host cannot come from a template"
        else:
            static = url if start == -1 else url[:start]
            try:
                ssrf.parse_target(static, allowed_domains=str(effective.get("http_action_allowed_domains", "*")))
            except ssrf.SSRFError as exc:
                errors[f"{field}.url"] = str(exc)
            _check_templates(url, f"{field}.url", index, errors, secrets=secret_names, secrets_allowed=True)
    headers = action.get("headers", {})
    if not isinstance(headers, dict):
        errors[f"{field}.headers"] = "must be an object of strings"
    else:
        for name, value in headers.items():
            if not isinstance(value, str) or name.lower() in _FORBIDDEN_HEADERS or not name.strip():
                errors[f"{field}.headers.{name}"] = "a string value; Host, Content-Length and the like are set for you"
                break
        _check_templates(headers, f"{field}.headers", index, errors, secrets=secret_names, secrets_allowed=True)
    if "sign" in action and not isinstance(action["sign"], bool):
        errors[f"{field}.sign"] = "must be true or false"
    if "body" in action:
        _check_templates(action["body"], f"{field}.body", index, errors, secrets=secret_names,
                         secrets_allowed=True)
