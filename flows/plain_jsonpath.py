"""Which parsed JSONPaths are *plain*: the allow-list behind flow conditions (issue 15).

jsonpath-ng's extended parser understands more than JSONPath: string functions that run Python
regexes (``sub()``, ``split()``), ``=~`` filters, arithmetic, ``len``/``keys``/sorting, and
``|``/``&``/``where``/``parent``. None of that is needed to pick values out of an event, and the
regex ones cannot be interrupted, so a parsed path is walked and only these nodes pass: the root
and ``@``, child and ``..`` steps, names, indexes, slices, wildcards, and filters whose
expressions compare (``== != < <= > >=``), test existence (``@.x``, ``!@.x``) and combine
with ``&&``/``||``. One ``..`` at most per path (filters included): each further one multiplies
the work by the size of the event.

Nodes are matched by exact type, not ``isinstance``: jsonpath-ng's ``sub()``, ``split()``,
``str()`` and sorting are subclasses of ``This``.
"""

from __future__ import annotations

from typing import Any

from jsonpath_ng import Child, Descendants, Fields, Index, JSONPath, Root, Slice, This
from jsonpath_ng.ext.filter import And, Expression, Filter, Or
from jsonpath_ng.jsonpath import Wildcard

COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">=", "!", None})
MAX_DESCENDANTS = 1

# Why a node outside the allow-list is refused, by class name (names, not imports: several
# of these classes are private to jsonpath-ng).
_WHY = {
    "Sub": "`sub()` runs a regular expression",
    "Split": "`split()` runs code on the value",
    "Str": "`str()` runs code on the value",
    "Len": "`len` is an extension",
    "Keys": "`keys` is an extension",
    "Path": "`path` is an extension",
    "SortedThis": "sorting ([/name], [\\name]) is an extension",
    "Operation": "arithmetic (+ - * /) is an extension",
    "_Union": "union (|) is an extension; use ['a','b']",
    "_Intersect": "intersection (&) is an extension",
    "Parent": "`parent` is an extension",
    "Where": "`where` is an extension; use a [?(...)] filter",
    "WhereNot": "`wherenot` is an extension; use a [?(...)] filter",
}
_LEAVES = (Root, This, Fields, Index, Slice, Wildcard)


def refusal(node: Any) -> str:
    """Why ``node`` (a parsed path) is not plain JSONPath, or ``""`` when it is."""
    descendants = 0
    stack = [node]
    while stack:
        current = stack.pop()
        kind = type(current)
        if kind in _LEAVES:
            continue
        if kind is Child or kind is Descendants:
            if kind is Descendants:
                descendants += 1
                if descendants > MAX_DESCENDANTS:
                    return f"at most {MAX_DESCENDANTS} .. (descendants) step per path"
            stack += [current.left, current.right]
        elif kind is Filter:
            stack += current.expressions
        elif kind is And or kind is Or:
            stack += current.operands
        elif kind is Expression:
            if current.op not in COMPARISONS:
                return (f"the {current.op} filter runs a regular expression; use the matches operator"
                        if current.op == "=~" else f"the {current.op} filter operator is an extension")
            stack.append(current.target)
            if isinstance(current.value, JSONPath):  # a query on the right-hand side (RFC 9535)
                stack.append(current.value)
        else:
            return _WHY.get(kind.__name__, f"{kind.__name__} is an extension")
    return ""
