"""The in-memory catalogue: immutable operations and the indexes the explorer and flows query.

A ``Catalog`` is built from the *compiled* form of an OpenAPI document (plain JSON made by
``explorer.catalog.compiler``), so loading a cached catalogue is a ``json.loads`` plus object
construction, not a YAML parse and ``$ref`` walk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

READ_ONLY_METHODS = frozenset({"GET", "HEAD"})
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# Hosts an operation may target; each maps to one URL the installation received from Clockify.
HOSTS = ("backend", "reports", "pto", "locations", "screenshots")

_PATH_PARAM_RE = re.compile(r"{([^{}/]+)}")


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # path | query | header
    required: bool = False
    type: str = "string"  # string | integer | number | boolean | array | object
    items_type: str | None = None  # element type of an array parameter
    enum: tuple[Any, ...] = ()
    default: Any = None
    format: str | None = None
    description: str = ""
    example: Any = None
    minimum: float | None = None
    maximum: float | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Parameter":
        return cls(
            name=data["name"],
            location=data["in"],
            required=bool(data.get("required", False)),
            type=data.get("type") or "string",
            items_type=data.get("items_type"),
            enum=tuple(data.get("enum") or ()),
            default=data.get("default"),
            format=data.get("format"),
            description=data.get("description") or "",
            example=data.get("example"),
            minimum=data.get("minimum"),
            maximum=data.get("maximum"),
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name, "in": self.location, "required": self.required, "type": self.type,
            "description": self.description,
        }
        for key, value in (("items_type", self.items_type), ("default", self.default), ("format", self.format),
                           ("example", self.example), ("minimum", self.minimum),
                           ("maximum", self.maximum)):
            if value is not None:
                data[key] = value
        if self.enum:
            data["enum"] = list(self.enum)
        return data


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str  # upper case
    path: str  # template, e.g. /v1/workspaces/{workspaceId}/projects
    host: str = "backend"
    tags: tuple[str, ...] = ()
    summary: str = ""
    description: str = ""
    parameters: tuple[Parameter, ...] = ()
    request_body_schema: dict[str, Any] | None = None  # $refs resolved (cycles marked x-circular)
    request_body_required: bool = False
    request_content_type: str | None = None
    examples: dict[str, Any] = field(default_factory=dict)  # {"body": ..., "query": {...}, "path": {...}}
    deprecated: bool = False

    @property
    def is_read_only(self) -> bool:
        return self.method in READ_ONLY_METHODS

    @property
    def ref(self) -> str:
        """The "METHOD /path" form flows may use instead of the operationId."""
        return f"{self.method} {self.path}"

    @property
    def path_param_names(self) -> tuple[str, ...]:
        return tuple(_PATH_PARAM_RE.findall(self.path))

    def params_in(self, location: str) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.location == location)

    def parameter(self, name: str, location: str) -> Parameter | None:
        for param in self.parameters:
            if param.name == name and param.location == location:
                return param
        return None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Operation":
        return cls(
            operation_id=data["operation_id"],
            method=data["method"],
            path=data["path"],
            host=data.get("host") or "backend",
            tags=tuple(data.get("tags") or ()),
            summary=data.get("summary") or "",
            description=data.get("description") or "",
            parameters=tuple(Parameter.from_dict(p) for p in data.get("parameters") or ()),
            request_body_schema=data.get("request_body_schema"),
            request_body_required=bool(data.get("request_body_required", False)),
            request_content_type=data.get("request_content_type"),
            examples=data.get("examples") or {},
            deprecated=bool(data.get("deprecated", False)),
        )

    def summary_dict(self) -> dict[str, Any]:
        """The short form used by lists and the tag tree."""
        return {
            "operation_id": self.operation_id, "method": self.method, "path": self.path, "host": self.host,
            "tags": list(self.tags), "summary": self.summary, "is_read_only": self.is_read_only,
            "deprecated": self.deprecated,
        }

    def to_dict(self) -> dict[str, Any]:
        data = self.summary_dict()
        data.update(
            description=self.description,
            parameters=[p.to_dict() for p in self.parameters],
            request_body_schema=self.request_body_schema,
            request_body_required=self.request_body_required,
            request_content_type=self.request_content_type,
            examples=self.examples,
        )
        return data


def _normalise_ref_path(path: str) -> str:
    path = path.strip()
    if len(path) > 1:
        path = path.rstrip("/")
    return path


class Catalog:
    """The operations of one OpenAPI document with lookups by id, "METHOD /path", tag and text."""

    def __init__(self, operations: list[Operation], *, title: str = "", version: str = "", source: str = "",
                 sha256: str = "", tags: list[dict[str, Any]] | None = None,
                 tag_groups: list[dict[str, Any]] | None = None) -> None:
        self.operations: list[Operation] = sorted(operations, key=lambda o: (o.path, o.method))
        self.title = title
        self.version = version
        self.source = source
        self.sha256 = sha256
        self._tag_info = {t["name"]: t for t in tags or () if t.get("name")}
        self._tag_groups = tag_groups or []
        self._by_id = {op.operation_id: op for op in self.operations}
        self._by_ref = {(op.method, op.path): op for op in self.operations}
        self._by_tag: dict[str, list[Operation]] = {}
        for op in self.operations:
            for tag in op.tags or ("Other",):
                self._by_tag.setdefault(tag, []).append(op)
        # One lower-cased haystack per operation; ranking fields kept apart so an id or path hit
        # ranks above a hit somewhere in a long description.
        self._haystacks = [
            (op, op.operation_id.lower(), f"{op.summary} {op.path}".lower(),
             " ".join((*op.tags, op.description[:400])).lower())
            for op in self.operations
        ]

    @classmethod
    def from_compiled(cls, compiled: dict[str, Any], *, source: str = "", sha256: str = "") -> "Catalog":
        return cls(
            [Operation.from_dict(o) for o in compiled.get("operations", ())],
            title=compiled.get("title", ""),
            version=compiled.get("version", ""),
            source=source or compiled.get("source", ""),
            sha256=sha256 or compiled.get("sha256", ""),
            tags=compiled.get("tags"),
            tag_groups=compiled.get("tag_groups"),
        )

    def __len__(self) -> int:
        return len(self.operations)

    def get(self, operation_id: str) -> Operation | None:
        return self._by_id.get(operation_id)

    def resolve(self, ref: str) -> Operation | None:
        """An operation by operationId or by "METHOD /v1/path-template"."""
        if not isinstance(ref, str) or not ref.strip():
            return None
        ref = ref.strip()
        op = self._by_id.get(ref)
        if op is not None:
            return op
        method, _, path = ref.partition(" ")
        if not path:
            return None
        return self._by_ref.get((method.upper(), _normalise_ref_path(path)))

    def search(self, text: str | None = None, tag: str | None = None, method: str | None = None) -> list[Operation]:
        """Operations matching every word of ``text`` (id, summary, path, tags, description), a tag
        (case-insensitive) and a method; the best matches first."""
        candidates: list[Operation] | None = None
        if tag:
            wanted = tag.strip().lower()
            candidates = [op for name, ops in self._by_tag.items() if name.lower() == wanted for op in ops]
        method_filter = method.strip().upper() if method else None
        terms = [t for t in (text or "").lower().split() if t]
        allowed = None if candidates is None else {id(op) for op in candidates}
        results: list[tuple[int, int, Operation]] = []
        for index, (op, op_id, head, tail) in enumerate(self._haystacks):
            if allowed is not None and id(op) not in allowed:
                continue
            if method_filter and op.method != method_filter:
                continue
            score = 0
            for term in terms:
                if term == op_id:
                    score += 100
                elif term in op_id:
                    score += 10
                elif term in head:
                    score += 5
                elif term in tail:
                    score += 1
                else:
                    break
            else:
                results.append((-score, index, op))
        results.sort(key=lambda r: (r[0], r[1]))
        return [op for _, _, op in results]

    def tags(self) -> list[str]:
        return sorted(self._by_tag)

    def tag_tree(self) -> list[dict[str, Any]]:
        """Groups (``x-tagGroups`` when the document has them) of tags with their operations."""
        seen: set[str] = set()
        groups: list[dict[str, Any]] = []

        def tag_node(name: str) -> dict[str, Any]:
            info = self._tag_info.get(name, {})
            return {
                "name": name,
                "description": info.get("description", ""),
                "operations": [op.summary_dict() for op in self._by_tag.get(name, ())],
            }

        for group in self._tag_groups:
            names = [n for n in group.get("tags", ()) if n in self._by_tag and n not in seen]
            if not names:
                continue
            seen.update(names)
            groups.append({"name": group.get("name", ""), "tags": [tag_node(n) for n in names]})
        # Tags in document order first, then any tag only operations mention.
        rest = [n for n in self._tag_info if n in self._by_tag and n not in seen]
        rest += [n for n in sorted(self._by_tag) if n not in seen and n not in rest]
        if rest:
            groups.append({"name": "Other" if groups else (self.title or "API"), "tags": [tag_node(n) for n in rest]})
        return groups
