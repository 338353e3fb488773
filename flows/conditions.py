"""The condition engine: ``{"mode": "all"|"any", "rules": [{"path", "op", "value"}]}`` over an event.

Paths are plain JSONPath (RFC 9535's shape): names, indexes, slices, wildcards, at most one
``..`` and ``[?(...)]`` filters that compare values. They are parsed by jsonpath-ng's extended
parser, whose tree is then checked against that list: its extensions (``sub()``/``split()``/
``str()``, ``=~`` filters, arithmetic, ``len``/``keys``/sorting, ``|``/``&``/``where``/``parent``)
run code or Python regexes on event data and are refused, when a flow is saved and again when it
is evaluated (a flow stored before the check fails that rule instead of running it).

A path that matches one node yields that node's value; a path that matches several (wildcards,
filters) yields the list. A path that matches nothing is *missing*: only ``not_exists``, ``!=``
and ``not_contains`` are true for it, every other operator is false (a rule about a value cannot
hold for a value that is not there).

``matches`` uses the ``regex`` package with a per-match timeout, plus caps on pattern and
subject length: Python's ``re`` cannot be interrupted, so one catastrophic-backtracking pattern
(``(a|aa)+$``) would pin a worker. A timed-out match is a rule that does not hold, reported as
such in the run's condition results. All the rules an event meets, over every flow it triggers,
share one time budget (``FLOW_CONDITIONS_TIME_BUDGET_SECONDS``): rules left when it is spent are
not evaluated and do not hold.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import regex
from django.conf import settings
from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
from jsonpath_ng.ext import parse as jsonpath_parse

from flows.plain_jsonpath import refusal as plain_jsonpath_refusal

OPERATORS = ("==", "!=", ">", ">=", "<", "<=", "contains", "not_contains", "in", "exists", "not_exists",
             "matches")
UNARY_OPERATORS = frozenset({"exists", "not_exists"})
MODES = ("all", "any")

REGEX_TIMEOUT_SECONDS = 0.05
REGEX_MAX_PATTERN = 500
REGEX_MAX_SUBJECT = 10_000
MAX_PATH_LENGTH = 300


class ConditionError(ValueError):
    pass


def budget_seconds() -> float:
    return float(getattr(settings, "FLOW_CONDITIONS_TIME_BUDGET_SECONDS", 0.5))


@dataclass(frozen=True)
class Budget:
    """The time left for the conditions of one event (every flow it triggers shares it)."""

    deadline: float

    @classmethod
    def start(cls, seconds: float | None = None) -> "Budget":
        return cls(time.monotonic() + (budget_seconds() if seconds is None else seconds))

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


_MISSING = object()


@lru_cache(maxsize=2048)
def compile_path(path: str):
    """Parse a JSONPath once; parsing costs far more than evaluating."""
    if not isinstance(path, str) or not path.strip():
        raise ConditionError("must be a JSONPath such as $.projectId")
    if len(path) > MAX_PATH_LENGTH:
        raise ConditionError(f"at most {MAX_PATH_LENGTH} characters")
    try:
        parsed = jsonpath_parse(path)
    except (JsonPathParserError, JsonPathLexerError, Exception) as exc:  # ply raises plain Exceptions too
        raise ConditionError(f"not a valid JSONPath: {str(exc)[:120]}") from None
    refused = plain_jsonpath_refusal(parsed)
    if refused:
        raise ConditionError(f"not plain JSONPath: {refused}")
    return parsed


def compile_regex(pattern: Any):
    if not isinstance(pattern, str):  # checked before the cache, which cannot hash a list
        raise ConditionError("matches needs a string pattern")
    return _compile_regex(pattern)


@lru_cache(maxsize=1024)
def _compile_regex(pattern: str):
    if len(pattern) > REGEX_MAX_PATTERN:
        raise ConditionError(f"pattern longer than {REGEX_MAX_PATTERN} characters")
    try:
        return regex.compile(pattern)
    except regex.error as exc:
        raise ConditionError(f"not a valid regular expression: {exc}") from None


def validate_rule(rule: Any) -> dict[str, str]:
    """Field-level errors of one rule (``{"path": "..."}``); empty when valid."""
    if not isinstance(rule, dict):
        return {"": "must be an object with path, op and value"}
    errors: dict[str, str] = {}
    unknown = set(rule) - {"path", "op", "value"}
    if unknown:
        errors[sorted(unknown)[0]] = "unknown field"
    try:
        compile_path(rule.get("path"))
    except ConditionError as exc:
        errors["path"] = str(exc)
    op = rule.get("op")
    if op not in OPERATORS:
        errors["op"] = f"unknown operator {op!r}; one of {', '.join(OPERATORS)}"
    elif op not in UNARY_OPERATORS and "value" not in rule:
        errors["value"] = f"required for {op}"
    elif op == "in" and not isinstance(rule.get("value"), list):
        errors["value"] = "in needs a list"
    elif op in (">", ">=", "<", "<=") and not _orderable(rule.get("value")):
        errors["value"] = f"{op} needs a number or a string"
    elif op == "matches":
        try:
            compile_regex(rule.get("value"))
        except ConditionError as exc:
            errors["value"] = str(exc)
    return errors


def resolve(path: str, data: Any) -> Any:
    """The value at ``path``, a list when several nodes match, or ``_MISSING``."""
    found = compile_path(path).find(data)
    if not found:
        return _MISSING
    if len(found) == 1:
        return found[0].value
    return [m.value for m in found]


def _orderable(value: Any) -> bool:
    return isinstance(value, (int, float, str)) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _compare(op: str, actual: Any, expected: Any) -> bool:
    # Numbers compare with numbers and strings with strings (ISO dates order correctly);
    # anything else does not compare rather than raising.
    if not ((_number(actual) and _number(expected)) or (isinstance(actual, str) and isinstance(expected, str))):
        return False
    if op == ">":
        return actual > expected
    if op == ">=":
        return actual >= expected
    if op == "<":
        return actual < expected
    return actual <= expected


def _equal(actual: Any, expected: Any) -> bool:
    if isinstance(actual, bool) or isinstance(expected, bool):
        return type(actual) is type(expected) and actual == expected
    return actual == expected


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(actual, str):
        return isinstance(expected, str) and expected in actual
    if isinstance(actual, list):
        return any(_equal(item, expected) for item in actual)
    if isinstance(actual, dict):
        return isinstance(expected, str) and expected in actual
    return False


def _matches(actual: Any, pattern: str, timeout: float) -> bool:
    if not isinstance(actual, str):
        if not _number(actual):
            return False
        actual = str(actual)
    try:
        return compile_regex(pattern).search(actual[:REGEX_MAX_SUBJECT], timeout=timeout) is not None
    except TimeoutError:
        raise ConditionError(f"regular expression took longer than {round(timeout * 1000)} ms")


def evaluate_op(op: str, actual: Any, expected: Any = None, *, timeout: float = REGEX_TIMEOUT_SECONDS) -> bool:
    """One operator on a resolved value (``_MISSING`` for a path that matched nothing)."""
    missing = actual is _MISSING
    if op == "exists":
        return not missing
    if op == "not_exists":
        return missing
    if op == "!=":
        return missing or not _equal(actual, expected)
    if op == "not_contains":
        return missing or not _contains(actual, expected)
    if missing:
        return False
    if op == "==":
        return _equal(actual, expected)
    if op in (">", ">=", "<", "<="):
        return _compare(op, actual, expected)
    if op == "contains":
        return _contains(actual, expected)
    if op == "in":
        return isinstance(expected, list) and any(_equal(actual, item) for item in expected)
    if op == "matches":
        return _matches(actual, expected, timeout)
    raise ConditionError(f"unknown operator {op!r}")


@dataclass(frozen=True)
class RuleResult:
    path: str
    op: str
    value: Any
    actual: Any  # None when missing; see ``found``
    found: bool
    matched: bool
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        out = {"path": self.path, "op": self.op, "value": self.value, "found": self.found,
               "actual": _preview(self.actual), "matched": self.matched}
        if self.error:
            out["error"] = self.error
        return out


@dataclass(frozen=True)
class ConditionsResult:
    mode: str
    matched: bool
    rules: tuple[RuleResult, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "matched": self.matched, "rules": [r.as_dict() for r in self.rules]}


def _preview(value: Any, limit: int = 200) -> Any:
    """A short form of a value for run history (conditions may touch large payload parts)."""
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + "…"
    if isinstance(value, (list, dict)):
        import json

        text = json.dumps(value, default=str)
        return value if len(text) <= limit else text[:limit] + "…"
    return value


def evaluate(conditions: dict[str, Any] | None, data: Any, *, budget: Budget | None = None) -> ConditionsResult:
    """Evaluate every rule (no short-circuit, so a test-run can show each one) within ``budget``
    (a fresh one when not given)."""
    conditions = conditions or {}
    mode = conditions.get("mode", "all")
    budget = budget or Budget.start()
    results = []
    for rule in conditions.get("rules", []) or []:
        path, op, expected = rule["path"], rule["op"], rule.get("value")
        error = ""
        try:
            left = budget.remaining()
            if left <= 0:
                raise ConditionError(f"not evaluated: the time budget of an event's conditions "
                                     f"({budget_seconds():g} s) was used up")
            actual = resolve(path, data)
            matched = evaluate_op(op, actual, expected, timeout=max(0.001, min(REGEX_TIMEOUT_SECONDS, left)))
        except ConditionError as exc:
            actual, matched, error = _MISSING, False, str(exc)
        found = actual is not _MISSING
        results.append(RuleResult(path, op, expected, actual if found else None, found, matched, error))
    if not results:
        matched = True  # no rules: every triggering event runs the flow
    elif mode == "any":
        matched = any(r.matched for r in results)
    else:
        matched = all(r.matched for r in results)
    return ConditionsResult(mode, matched, tuple(results))
