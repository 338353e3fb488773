"""Hypothesis strategies for hostile requests, and a snapshot of everything the database holds.

A rejected request must leave no trace: ``db_snapshot`` counts the rows of every model (all
apps, so a write anywhere is caught) and keeps the installations' own fields, which a rejected
lifecycle call must not change either.
"""

from __future__ import annotations

import json
from typing import Any

from django.apps import apps
from hypothesis import strategies as st

from installations.models import Installation

# Header values travel as latin-1 on the wire; CR/LF would be a different request altogether.
header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=300)

json_scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=20,
)

# Bodies that are not JSON objects, or not JSON at all, or barely so.
raw_bodies = st.one_of(
    st.binary(max_size=400),
    st.text(max_size=200).map(str.encode),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.sampled_from([b"", b"{", b"null", b"[]", b'{"a":NaN}', b'{"a":Infinity}', b"\xff\xfe{}", b'"\\ud800"',
                     b'{"a":"\\u0000"}', b'{"a":1e400}', b'{"a":-1e-400}', b'{"a":' * 50 + b"1" + b"}" * 50]),
)

# Valid JSON that broke an endpoint once (5xx); each has its own explicit test, so that the
# generated bodies above keep finding new problems instead of the same one again.
# Nesting deeper than Python's recursion limit: json.loads raises RecursionError, not ValueError.
# A number beyond PostgreSQL's numeric range: Python reads it as inf, jsonb refuses the raw text.
HOSTILE_BODIES = {
    "deep_array": b"[" * 5000 + b"]" * 5000,
    "deep_object": b'{"a":' * 3000 + b"1" + b"}" * 3000,
    "huge_number": b'{"id":"x","n":1e999999}',
    "huge_negative_number": b'{"id":"x","n":-1e999999}',
}


def mutated(valid: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A valid body with some keys dropped or replaced by arbitrary JSON, and maybe extra keys."""
    keys = sorted(valid)
    return st.tuples(
        st.sets(st.sampled_from(keys), max_size=len(keys)),
        st.dictionaries(st.sampled_from(keys), json_values, max_size=3),
        st.dictionaries(st.text(max_size=10), json_values, max_size=2),
    ).map(lambda t: {**{k: v for k, v in valid.items() if k not in t[0]}, **t[1], **t[2]})


def db_snapshot() -> tuple:
    counts = tuple(
        (model._meta.label, model._default_manager.count())
        for model in sorted(apps.get_models(), key=lambda m: m._meta.label)
        if model._meta.managed and not model._meta.proxy
    )
    installations = tuple(Installation.objects.order_by("pk").values_list(
        "pk", "status", "settings", "token_encrypted", "addon_id", "api_url", "updated_at"))
    return counts, installations


# --- hostile JSON for the pages' API and XHRs (issue 15) ---------------------------------------------
# Strings with NUL, lone surrogates and regex-bait; numbers Python or PostgreSQL cannot hold.
hostile_text = st.one_of(
    st.text(max_size=30),
    st.text(max_size=10).map(lambda s: s + "\x00" + s),
    st.sampled_from(["\ud800", "a\udfffb", "a" * 5000 + "b", "{{" * 2000, "}}{{", "{{event.id}}",
                     "{{steps[9].response.id}}", "%00", "\\u0000"]),
)
# JSONPaths that run code or regexes under jsonpath-ng's extensions, next to plain ones.
hostile_paths = st.sampled_from([
    "$.description.`sub(/(a|aa)+$/, x)`", "$.tags[?(@.name =~ '(a|aa)+$')]", "$.a.`split(a, 0, -1)`",
    "$.a.`str()`", "$.a.`len`", "$.a.`keys`", "$.a[/name]", "$.duration * 2", "$.a | $.b", "$..a..b..c",
    "$.a where b", "$.a.`parent`", "$[?(@..x == 1)]", "$.id", "$..name", "$.tags[?(@.name == 'a')]", "$",
    "$." + "a." * 200 + "b", "$[" * 50,
])
hostile_regexes = st.sampled_from(["(a|aa)+$", "(a+)+$", "(.*a){20}", "(?:a|a)*b", "[", "a{99999}", "\\"])
HUGE_NUMBERS = ["1e999999", "-1e999999", "1e400", "-0.0", "1e-400", "9" * 5000, "-" + "9" * 120,
                "123456789012345678901234567890"]


def hostile_rule() -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({"path": hostile_paths, "op": st.sampled_from(["exists", "matches", "==", "in"]),
                                  "value": st.one_of(hostile_regexes, hostile_text, st.lists(hostile_text, max_size=3))})


def hostile_json(valid: dict[str, Any]) -> st.SearchStrategy[bytes]:
    """Bodies an attacker with a page's token could send to an endpoint whose good body is ``valid``."""
    keys = sorted(valid) or ["x"]
    deep = st.integers(min_value=65, max_value=6000)
    with_values = st.recursive(
        st.none() | st.booleans() | st.integers() | hostile_text,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
        max_leaves=12,
    )
    return st.one_of(
        deep.map(lambda n: b"[" * n + b"]" * n),
        deep.map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
        st.tuples(st.sampled_from(keys), deep).map(
            lambda t: json.dumps({**valid, t[0]: "X"}).encode().replace(b'"X"', b"[" * t[1] + b"]" * t[1])),
        st.tuples(st.sampled_from(keys), st.sampled_from(HUGE_NUMBERS)).map(
            lambda t: json.dumps({**valid, t[0]: "X"}).encode().replace(b'"X"', t[1].encode())),
        st.tuples(st.sampled_from(keys), with_values).map(lambda t: json.dumps({**valid, t[0]: t[1]}).encode()),
        st.dictionaries(hostile_text, with_values, max_size=3).map(lambda d: json.dumps({**valid, **d}).encode()),
        st.binary(max_size=60).map(lambda b: json.dumps(valid).encode()[:-1] + b', "z": "' + b + b'\xff\xfe"}'),
        st.sampled_from([b"\xc3\x28", b'{"name": "caf\xe9"}', b'"\\ud800"', b'{"a": NaN}', b"{", b"", b"null",
                         b"[]", b'{"a": Infinity}']),
    )
