"""The template engine: ``{{event.…}}``, ``{{installation.…}}``, ``{{cache.<type>.<id>.…}}``, ``{{steps[N]…}}``,
``{{secrets.NAME}}``.

A deliberately tiny grammar, parsed here and never handed to an evaluator: a root, then
``.name`` / ``[N]`` / ``["key"]`` segments. Nothing is ever executed. Templates are found by a
linear scan for ``{{`` / ``}}`` (a lazy regex over a string of 200,000 ``{{`` backtracks for
minutes); the small regexes below only read one template, at most ``MAX_TEMPLATE_LENGTH`` long.

- A string that is exactly one template keeps the value's JSON type (``"{{steps[0].response.id}}"``
  may become a number, a list, an object); templates inside longer text are interpolated
  (strings as they are, anything else as JSON).
- A path that is not there raises ``TemplateError`` naming the path: a step must fail loudly,
  never send an empty string.
- ``cache.<type>[event.<path>].<path>`` looks the entity id up from the event.
- ``steps[N]`` may only name an earlier step (checked when a flow is saved).
- ``secrets.NAME`` is one of the flow's encrypted secrets (http actions only, checked when a flow
  is saved). The values used are kept on the context (``used_secrets``) so that what a run
  records can mask them; a test-run shows ``<secrets.NAME>``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

_SEGMENT_RE = re.compile(r"""\.([A-Za-z0-9_\-$@]+)|\[(\d+)\]|\["([^"\]]*)"\]|\['([^'\]]*)'\]""")
_ROOT_RE = re.compile(r"^(event|installation|cache|steps|secrets)\b")
SECRET_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_STEP_RE = re.compile(r"^steps\[(\d+)\]")
_CACHE_RE = re.compile(r"^cache\.([A-Za-z0-9_\-]+)(?:\.([A-Za-z0-9_\-]+)|\[(event(?:\.[A-Za-z0-9_\-]+|\[\d+\])+)\])")

INSTALLATION_FIELDS = ("workspaceId", "addonId", "addonUserId", "variant", "plan", "backendUrl", "reportsUrl")
MAX_TEMPLATE_LENGTH = 300


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class Expr:
    text: str
    root: str  # event | installation | cache | steps | secrets
    path: tuple[str | int, ...]
    step: int | None = None
    cache_type: str = ""
    cache_id: str = ""
    cache_id_path: tuple[str | int, ...] | None = None  # id looked up from the event


def _segments(text: str, rest: str) -> tuple[str | int, ...]:
    out: list[str | int] = []
    pos = 0
    while pos < len(rest):
        m = _SEGMENT_RE.match(rest, pos)
        if not m:
            raise TemplateError(f"{{{{{text}}}}}: cannot read the path at {rest[pos:pos + 20]!r}")
        name, index, dq, sq = m.groups()
        out.append(int(index) if index is not None else (name if name is not None else (dq if dq is not None else sq)))
        pos = m.end()
    return tuple(out)


def parse_expr(raw: str) -> Expr:
    text = raw.strip()
    if not text:
        raise TemplateError("{{}}: empty template")
    if len(text) > MAX_TEMPLATE_LENGTH:
        raise TemplateError(f"template longer than {MAX_TEMPLATE_LENGTH} characters")
    root = _ROOT_RE.match(text)
    if not root:
        raise TemplateError(f"{{{{{text}}}}}: must start with event, installation, cache, steps[N] or secrets")
    name = root.group(1)
    if name == "steps":
        m = _STEP_RE.match(text)
        if not m:
            raise TemplateError(f"{{{{{text}}}}}: steps needs an index, e.g. steps[0].response.id")
        path = _segments(text, text[m.end():])
        if not path or path[0] not in ("response", "status"):
            raise TemplateError(f"{{{{{text}}}}}: use steps[N].response.<path> or steps[N].status")
        if path[0] == "status" and len(path) > 1:
            raise TemplateError(f"{{{{{text}}}}}: steps[N].status has no sub-path")
        return Expr(text, "steps", path, step=int(m.group(1)))
    if name == "cache":
        m = _CACHE_RE.match(text)
        if not m:
            raise TemplateError(f"{{{{{text}}}}}: use cache.<type>.<id>.<path> or cache.<type>[event.<path>].<path>")
        id_path = None
        if m.group(3):
            id_path = _segments(text, m.group(3)[len("event"):])
        return Expr(text, "cache", _segments(text, text[m.end():]), cache_type=m.group(1),
                    cache_id=m.group(2) or "", cache_id_path=id_path)
    path = _segments(text, text[root.end():])
    if name == "secrets":
        if len(path) != 1 or not isinstance(path[0], str) or not SECRET_NAME_RE.match(path[0]):
            raise TemplateError(f"{{{{{text}}}}}: use secrets.NAME (letters, digits, _)")
    if name == "installation":
        if len(path) != 1 or path[0] not in INSTALLATION_FIELDS:
            raise TemplateError(f"{{{{{text}}}}}: installation fields are {', '.join(INSTALLATION_FIELDS)}")
    return Expr(text, name, path)


def split_templates(text: str) -> list[tuple[bool, str]]:
    """``text`` as ``(is_template, part)`` pieces: literal text and the insides of ``{{ }}``.

    One pass over the string; a ``}}`` outside a template or a ``{{`` inside one is unbalanced.
    """
    parts: list[tuple[bool, str]] = []
    pos = 0
    while True:
        start = text.find("{{", pos)
        literal = text[pos:] if start == -1 else text[pos:start]
        if "}}" in literal:
            raise TemplateError("unbalanced {{ }}")
        if literal:
            parts.append((False, literal))
        if start == -1:
            return parts
        end = text.find("}}", start + 2)
        if end == -1 or "{{" in text[start + 2:end]:
            raise TemplateError("unbalanced {{ }}")
        parts.append((True, text[start + 2:end]))
        pos = end + 2


def find_exprs(value: Any) -> list[Expr]:
    """Every template in a JSON value (strings anywhere in it); raises on a malformed one."""
    found: list[Expr] = []
    if isinstance(value, str):
        if "{{" in value or "}}" in value:
            found.extend(parse_expr(part) for is_template, part in split_templates(value) if is_template)
    elif isinstance(value, dict):
        for item in value.values():
            found.extend(find_exprs(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(find_exprs(item))
    return found


def walk(value: Any, path: tuple[str | int, ...], label: str) -> Any:
    """Follow ``path`` into ``value``; a missing key or index raises naming the full path."""
    current = value
    for i, segment in enumerate(path):
        if isinstance(current, dict) and isinstance(segment, str) and segment in current:
            current = current[segment]
        elif isinstance(current, list) and isinstance(segment, int) and -1 < segment < len(current):
            current = current[segment]
        else:
            raise TemplateError(f"path {format_path(label, path)} not found (no {format_path(label, path[:i + 1])})")
    return current


def format_path(root: str, path: tuple[str | int, ...]) -> str:
    out = root
    for segment in path:
        out += f"[{segment}]" if isinstance(segment, int) else f".{segment}"
    return out


@dataclass
class StepOutput:
    status: int | None
    response: Any
    truncated: bool = False


@dataclass
class Context:
    event: Any
    installation: dict[str, Any]
    cache_lookup: Callable[[str, str], dict | None] = lambda entity_type, entity_id: None
    steps: list[StepOutput] = field(default_factory=list)
    preview: bool = False  # test-run: a step's output is not known, show a placeholder
    # The flow's secrets by name (None: not set); read only when a template uses one.
    secret_lookup: Callable[[str], str | None] = lambda name: None
    used_secrets: dict[str, str] = field(default_factory=dict)


class Placeholder(str):
    """Stands in for a value a test-run cannot know (an earlier step's response)."""


def _value_of(expr: Expr, ctx: Context) -> Any:
    if expr.root == "event":
        return walk(ctx.event, expr.path, "event")
    if expr.root == "installation":
        return walk(ctx.installation, expr.path, "installation")
    if expr.root == "cache":
        entity_id = expr.cache_id
        if expr.cache_id_path is not None:
            entity_id = walk(ctx.event, expr.cache_id_path, "event")
            if not isinstance(entity_id, (str, int)) or isinstance(entity_id, bool):
                raise TemplateError(f"{{{{{expr.text}}}}}: the id from the event is not a string")
            entity_id = str(entity_id)
        entity = ctx.cache_lookup(expr.cache_type, entity_id)
        label = f"cache.{expr.cache_type}.{entity_id}"
        if entity is None:
            raise TemplateError(f"path {format_path(label, expr.path)} not found (no cached {expr.cache_type} "
                                f"{entity_id})")
        return walk(entity, expr.path, label)
    if expr.root == "secrets":
        name = str(expr.path[0])
        if ctx.preview:
            return Placeholder(f"<secrets.{name}>")
        value = ctx.secret_lookup(name)
        if value is None:
            raise TemplateError(f"secrets.{name} is not set on this flow")
        ctx.used_secrets[name] = value
        return value
    # steps
    label = f"steps[{expr.step}]"
    if expr.step is None or expr.step >= len(ctx.steps):
        if ctx.preview:
            return Placeholder(f"<{format_path(label, expr.path)}>")
        raise TemplateError(f"{format_path(label, expr.path)}: step {expr.step} has not run")
    output = ctx.steps[expr.step]
    if expr.path[0] == "status":
        return output.status
    if output.truncated:
        raise TemplateError(f"{format_path(label, expr.path)}: the response was too large to keep")
    return walk(output.response, expr.path[1:], f"{label}.response")


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), default=str)


def render_string(text: str, ctx: Context) -> Any:
    if "{{" not in text and "}}" not in text:
        return text
    parts = split_templates(text)
    if len(parts) == 1 and parts[0][0]:  # the whole value is one template: keep its JSON type
        return _value_of(parse_expr(parts[0][1]), ctx)
    return "".join(_as_text(_value_of(parse_expr(part), ctx)) if is_template else part
                   for is_template, part in parts)


def render(value: Any, ctx: Context) -> Any:
    """Render every template in a JSON value; dict keys are left as they are."""
    if isinstance(value, str):
        return render_string(value, ctx)
    if isinstance(value, dict):
        return {key: render(item, ctx) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, ctx) for item in value]
    return value
