"""Checking a filled-in call against its operation before anything is sent.

Every problem is collected (not just the first) and reported by field: ``path.projectId``,
``query.page``, ``body.name``. Values are coerced to the parameter's type; path values are
percent-encoded so a value can never add a path segment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from explorer.catalog import Operation, Parameter
from explorer.errors import ParameterInvalid

MAX_BODY_BYTES = 256 * 1024
MAX_VALUE_CHARS = 2000
_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")


@dataclass(frozen=True)
class PreparedCall:
    operation: Operation
    path: str  # rendered, percent-encoded
    path_params: dict[str, str]
    query: dict[str, Any]  # str, or a list of str for array parameters
    body: Any


class _Invalid(ValueError):
    pass


def _scalar(param: Parameter, kind: str, value: Any) -> Any:
    if isinstance(value, (dict, list)):
        raise _Invalid(f"expected {kind}, got a {'list' if isinstance(value, list) else 'object'}")
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        raise _Invalid("expected a boolean (true or false)")
    if kind == "integer":
        if isinstance(value, bool):
            raise _Invalid("expected an integer")
        if isinstance(value, int):
            number: float = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
            number = int(value.strip())
        else:
            raise _Invalid("expected an integer")
    elif kind == "number":
        if isinstance(value, bool):
            raise _Invalid("expected a number")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise _Invalid("expected a number") from None
    else:
        if value is None:
            raise _Invalid("expected a value")
        text = str(value)
        if len(text) > MAX_VALUE_CHARS:
            raise _Invalid(f"longer than {MAX_VALUE_CHARS} characters")
        return text
    if param.minimum is not None and number < param.minimum:
        raise _Invalid(f"must be at least {param.minimum:g}")
    if param.maximum is not None and number > param.maximum:
        raise _Invalid(f"must be at most {param.maximum:g}")
    return number


def _check_enum(param: Parameter, value: Any) -> None:
    if param.enum and value not in param.enum and str(value) not in {str(e) for e in param.enum}:
        raise _Invalid(f"must be one of {', '.join(str(e) for e in param.enum)}")


def coerce_value(param: Parameter, value: Any) -> Any:
    """``value`` as the parameter's type, or ``_Invalid`` with a reason."""
    if param.type == "array":
        if isinstance(value, list):
            items = value
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
            items = [v for v in str(value).split(",") if v != ""]  # "a,b" from a form field
        else:
            raise _Invalid("expected a list")
        coerced = []
        for item in items:
            one = _scalar(param, param.items_type or "string", item)
            _check_enum(param, one)
            coerced.append(one)
        return coerced
    one = _scalar(param, param.type if param.type in ("boolean", "integer", "number") else "string", value)
    _check_enum(param, one)
    return one


def _wire(value: Any) -> Any:
    """Query values as Clockify expects them on the wire (booleans lower-case)."""
    if isinstance(value, list):
        return [_wire(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _check_body(operation: Operation, body: Any, errors: dict[str, str]) -> None:
    schema = operation.request_body_schema
    if operation.request_content_type is None and schema is None:
        if body not in (None, "", {}):
            errors["body"] = "this operation takes no body"
        return
    if operation.request_content_type not in (None, "application/json"):
        errors["body"] = f"{operation.request_content_type} bodies cannot be sent from the explorer"
        return
    if body is None:
        if operation.request_body_required:
            errors["body"] = "required"
        return
    try:
        size = len(json.dumps(body))
    except (TypeError, ValueError):
        errors["body"] = "not JSON"
        return
    if size > MAX_BODY_BYTES:
        errors["body"] = f"larger than {MAX_BODY_BYTES} bytes"
        return
    if not isinstance(schema, dict):
        return
    kind = schema.get("type") or ("object" if "properties" in schema else None)
    if kind == "object" and not isinstance(body, dict):
        errors["body"] = "expected a JSON object"
    elif kind == "array" and not isinstance(body, list):
        errors["body"] = "expected a JSON array"
    elif kind == "object":
        for name in schema.get("required") or ():
            if body.get(name) in (None, ""):
                errors[f"body.{name}"] = "required"
        for name, prop in (schema.get("properties") or {}).items():
            if name in body and isinstance(prop, dict) and prop.get("enum") and body[name] is not None \
                    and body[name] not in prop["enum"]:
                errors[f"body.{name}"] = f"must be one of {', '.join(str(e) for e in prop['enum'])}"


def prepare_call(operation: Operation, *, path_params: Any, query: Any, body: Any,
                 context: dict[str, str]) -> PreparedCall:
    """Validate and coerce a call; ``context`` prefills path parameters (workspaceId, userId).

    ``workspaceId`` is always the installation's: a call for another workspace is refused.
    """
    errors: dict[str, str] = {}
    if path_params is None:
        path_params = {}
    if query is None:
        query = {}
    if not isinstance(path_params, dict):
        errors["params"] = "expected an object of path parameters"
        path_params = {}
    if not isinstance(query, dict):
        errors["query"] = "expected an object of query parameters"
        query = {}

    rendered: dict[str, str] = {}
    path_names = operation.path_param_names
    for name in path_params:
        if name not in path_names:
            errors[f"path.{name}"] = "not a path parameter of this operation"
    for name in path_names:
        param = operation.parameter(name, "path") or Parameter(name=name, location="path", required=True)
        value = path_params.get(name)
        if name == "workspaceId":
            own = context.get("workspaceId", "")
            if value not in (None, "", own):
                errors[f"path.{name}"] = "must be this installation's workspace"
                continue
            value = own
        elif value in (None, "") and context.get(name):
            value = context[name]
        if value in (None, ""):
            errors[f"path.{name}"] = "required"
            continue
        try:
            coerced = coerce_value(param, value)
        except _Invalid as exc:
            errors[f"path.{name}"] = str(exc)
            continue
        text = str(_wire(coerced))
        if text in (".", "..") or "/" in text or "\\" in text:
            errors[f"path.{name}"] = "must be a single path segment"
            continue
        rendered[name] = text

    wire_query: dict[str, Any] = {}
    for name, value in query.items():
        param = operation.parameter(str(name), "query")
        if param is None:
            errors[f"query.{name}"] = "not a query parameter of this operation"
            continue
        if value is None or value == "" or value == []:
            continue
        try:
            wire_query[param.name] = _wire(coerce_value(param, value))
        except _Invalid as exc:
            errors[f"query.{name}"] = str(exc)
    for param in operation.params_in("query"):
        if param.required and param.name not in wire_query and f"query.{param.name}" not in errors:
            errors[f"query.{param.name}"] = "required"

    _check_body(operation, body, errors)
    if errors:
        raise ParameterInvalid(errors)
    path = operation.path
    for name, text in rendered.items():
        path = path.replace("{" + name + "}", quote(text, safe=""))
    return PreparedCall(operation=operation, path=path, path_params=rendered, query=wire_query,
                        body=body if body not in ("",) else None)
