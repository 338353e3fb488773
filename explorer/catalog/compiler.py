"""OpenAPI 3 document -> compiled catalogue (plain JSON): ``$ref``s resolved, one entry per operation.

The compiled form is what the database caches and what ``Catalog.from_compiled`` reads, so the
expensive work (YAML parsing, reference resolution) happens once per sync, not per process.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlsplit

import yaml

from explorer.catalog.types import HTTP_METHODS

COMPILED_FORMAT = 1
# Schemas nested deeper than this are cut (marked ``x-truncated``): a body form needs no more, and
# the biggest Clockify schemas would otherwise blow up when every reference is inlined.
MAX_SCHEMA_DEPTH = 8
_SYNTH_DEPTH = 4

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x the pure-Python parser


class _YamlLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loading, but timestamps stay strings: the compiled catalogue is JSON, and an example
    date must reach the user exactly as the document wrote it."""


_YamlLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


# First host label or last path segment of a server URL -> which installation URL it stands for
# (``reports.api.clockify.me``, ``https://euc1.clockify.me/report``, ``.../pto``).
_HOST_ALIASES = {
    "reports": ("reports", "report"),
    "pto": ("pto",),
    "locations": ("locations",),
    "screenshots": ("screenshots",),
}


class CatalogError(ValueError):
    """A document that is not a usable OpenAPI 3 document."""


def parse_document(raw: bytes | str) -> dict[str, Any]:
    """JSON or YAML text -> dict (JSON first: it is the faster parser and YAML's subset)."""
    text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    stripped = text.lstrip()
    document: Any = None
    if stripped.startswith("{"):
        try:
            document = json.loads(stripped)
        except ValueError:
            document = None
    if document is None:
        try:
            document = yaml.load(text, Loader=_YamlLoader)
        except yaml.YAMLError as exc:
            raise CatalogError(f"not JSON or YAML: {type(exc).__name__}") from None
    if not isinstance(document, dict):
        raise CatalogError("the document is not a mapping")
    version = str(document.get("openapi", ""))
    if not version.startswith("3."):
        raise CatalogError("not an OpenAPI 3 document (missing or unsupported 'openapi' version)")
    if not isinstance(document.get("paths"), dict):
        raise CatalogError("the document has no 'paths'")
    return document


def document_sha256(raw: bytes | str) -> str:
    return hashlib.sha256(raw.encode() if isinstance(raw, str) else raw).hexdigest()


class _Resolver:
    """Inlines local ``$ref``s. A reference already being expanded higher up (a cycle) is kept as
    ``{"$ref": ..., "x-circular": true}``; external references are kept and marked ``x-unresolved``."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def lookup(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise KeyError(ref)
        node: Any = self.document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, list):
                node = node[int(part)]
            else:
                node = node[part]
        return node

    def resolve(self, node: Any, *, stack: tuple[str, ...] = (), depth: int = 0) -> Any:
        if isinstance(node, list):
            return [self.resolve(item, stack=stack, depth=depth) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref in stack:
                return {"$ref": ref, "x-circular": True}
            if depth >= MAX_SCHEMA_DEPTH:
                return {"$ref": ref, "x-truncated": True}
            try:
                target = self.lookup(ref)
            except (KeyError, IndexError, ValueError):
                return {"$ref": ref, "x-unresolved": True}
            return self.resolve(target, stack=(*stack, ref), depth=depth + 1)
        return {key: self.resolve(value, stack=stack, depth=depth) for key, value in node.items()}


def _schema_type(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):  # OpenAPI 3.1 allows ["string", "null"]
        kind = next((k for k in kind if k != "null"), None)
    if kind:
        return str(kind)
    if "properties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "string"


def host_for(servers: Any, tags: list[str], path: str) -> str:
    """Which installation URL an operation uses. Clockify's document names a server per path
    (``https://api.clockify.me/api`` vs ``https://reports.api.clockify.me``)."""
    urls = [s.get("url", "") for s in servers or () if isinstance(s, dict)]
    for url in urls:
        parts = urlsplit(url)
        labels = (parts.hostname or "").split(".")
        last_segment = parts.path.rstrip("/").rsplit("/", 1)[-1]
        for name, aliases in _HOST_ALIASES.items():
            if labels[0] in aliases or last_segment in aliases:
                return name
        if url:
            return "backend"
    # No server given: the reports tags (and Clockify's "reports-app") live on the reports host.
    if any("report" in t.lower() and "shared" not in t.lower() for t in tags) and "/reports/" in path:
        return "reports"
    return "backend"


def _parameter(resolved: dict[str, Any]) -> dict[str, Any] | None:
    name, location = resolved.get("name"), resolved.get("in")
    if not isinstance(name, str) or location not in ("path", "query", "header"):
        return None  # cookie parameters are never sent from the explorer
    schema = resolved.get("schema") if isinstance(resolved.get("schema"), dict) else {}
    data: dict[str, Any] = {
        "name": name,
        "in": location,
        "required": bool(resolved.get("required", location == "path")),
        "type": _schema_type(schema),
        "description": str(resolved.get("description") or schema.get("description") or "")[:2000],
    }
    items = schema.get("items") if isinstance(schema.get("items"), dict) else None
    if data["type"] == "array":
        data["items_type"] = _schema_type(items or {})
    enum = schema.get("enum") or (items or {}).get("enum")
    if enum:
        data["enum"] = list(enum)
    if "default" in schema:
        data["default"] = schema["default"]
    if schema.get("format"):
        data["format"] = schema["format"]
    for bound in ("minimum", "maximum"):
        if isinstance(schema.get(bound), (int, float)) and not isinstance(schema.get(bound), bool):
            data[bound] = schema[bound]
    example = resolved.get("example", schema.get("example"))
    if example is not None:
        data["example"] = example
    return data


def synthesize_example(schema: Any, depth: int = 0) -> Any:
    """A request example built from the schema's own examples, defaults and enums."""
    if not isinstance(schema, dict) or depth > _SYNTH_DEPTH or schema.get("x-circular") or schema.get("x-truncated"):
        return None
    for key in ("example", "default"):
        if key in schema:
            return schema[key]
    if schema.get("enum"):
        return schema["enum"][0]
    for combinator in ("allOf", "oneOf", "anyOf"):
        if isinstance(schema.get(combinator), list) and schema[combinator]:
            merged: dict[str, Any] = {}
            for part in schema[combinator]:
                value = synthesize_example(part, depth + 1)
                if isinstance(value, dict):
                    merged.update(value)
                elif value is not None and combinator != "allOf":
                    return value
            return merged or None
    kind = _schema_type(schema)
    if kind == "object":
        props = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        result = {}
        for name, prop in props.items():
            value = synthesize_example(prop, depth + 1)
            if value is not None or name in required:
                result[name] = value
        return result
    if kind == "array":
        item = synthesize_example(schema.get("items"), depth + 1)
        return [item] if item is not None else []
    return None


def _request_body(resolved: dict[str, Any]) -> tuple[dict[str, Any] | None, bool, str | None, Any]:
    content = resolved.get("content") or {}
    if not isinstance(content, dict) or not content:
        return None, bool(resolved.get("required")), None, None
    content_type = "application/json" if "application/json" in content else next(iter(content))
    media = content.get(content_type) or {}
    schema = media.get("schema") if isinstance(media.get("schema"), dict) else None
    example = media.get("example")
    if example is None and isinstance(media.get("examples"), dict) and media["examples"]:
        first = next(iter(media["examples"].values()))
        example = first.get("value") if isinstance(first, dict) else None
    if example is None and content_type == "application/json":
        example = synthesize_example(schema)
    return schema, bool(resolved.get("required")), content_type, example


def compile_document(document: dict[str, Any], *, source: str = "", sha256: str = "") -> dict[str, Any]:
    """Parsed OpenAPI document -> compiled catalogue (JSON-serialisable)."""
    resolver = _Resolver(document)
    root_servers = document.get("servers")
    operations: list[dict[str, Any]] = []
    seen_ids: set[str] = set()
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict) or not str(path).startswith("/"):
            continue
        item = resolver.resolve(item) if "$ref" in item else item
        path_params = item.get("parameters") or []
        for method in HTTP_METHODS:
            raw = item.get(method.lower())
            if not isinstance(raw, dict):
                continue
            tags = [str(t) for t in raw.get("tags") or ()]
            # Operation-level parameters override path-level ones with the same (name, in).
            params: dict[tuple[str, str], dict[str, Any]] = {}
            for param in [*path_params, *(raw.get("parameters") or ())]:
                resolved = resolver.resolve(param)
                compiled = _parameter(resolved) if isinstance(resolved, dict) else None
                if compiled:
                    params[(compiled["name"], compiled["in"])] = compiled
            for name in _path_names(path):  # a template name the document forgot to declare
                params.setdefault((name, "path"), {"name": name, "in": "path", "required": True, "type": "string",
                                                   "description": ""})
            body_schema, body_required, content_type, body_example = (None, False, None, None)
            if isinstance(raw.get("requestBody"), dict):
                body_schema, body_required, content_type, body_example = _request_body(
                    resolver.resolve(raw["requestBody"]))
            op_id = str(raw.get("operationId") or "") or _fallback_id(method, path)
            if op_id in seen_ids:  # operationIds must be unique; keep the catalogue addressable anyway
                op_id = f"{op_id}_{method.lower()}"
            seen_ids.add(op_id)
            examples: dict[str, Any] = {}
            if body_example is not None:
                examples["body"] = body_example
            for location in ("path", "query"):
                values = {p["name"]: p["example"] for p in params.values()
                          if p["in"] == location and "example" in p}
                if values:
                    examples[location] = values
            operations.append({
                "operation_id": op_id,
                "method": method,
                "path": path,
                "host": host_for(raw.get("servers") or item.get("servers") or root_servers, tags, path),
                "tags": tags,
                "summary": str(raw.get("summary") or "")[:500],
                "description": str(raw.get("description") or "")[:4000],
                "parameters": list(params.values()),
                "request_body_schema": body_schema,
                "request_body_required": body_required,
                "request_content_type": content_type,
                "examples": examples,
                "deprecated": bool(raw.get("deprecated", False)),
            })
    if not operations:
        raise CatalogError("the document has no operations")
    info = document.get("info") or {}
    return {
        "format": COMPILED_FORMAT,
        "title": str(info.get("title") or ""),
        "version": str(info.get("version") or ""),
        "source": source,
        "sha256": sha256,
        "tags": [{"name": t.get("name"), "description": str(t.get("description") or "")[:1000]}
                 for t in document.get("tags") or () if isinstance(t, dict) and t.get("name")],
        "tag_groups": [{"name": g.get("name", ""), "tags": list(g.get("tags") or ())}
                       for g in document.get("x-tagGroups") or () if isinstance(g, dict)],
        "operations": operations,
    }


def _path_names(path: str) -> list[str]:
    names, rest = [], path
    while "{" in rest and "}" in rest:
        start = rest.index("{")
        end = rest.index("}", start)
        names.append(rest[start + 1:end])
        rest = rest[end + 1:]
    return names


def _fallback_id(method: str, path: str) -> str:
    cleaned = "".join(ch if ch.isalnum() else "_" for ch in path.strip("/"))
    return f"{method.lower()}_{cleaned}".strip("_")
