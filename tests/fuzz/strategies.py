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
