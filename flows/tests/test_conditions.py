"""The operator table: every operator on matching, non-matching, missing and wrong-typed values."""

import pytest

from flows import conditions as cond

EVENT = {
    "id": "te1",
    "description": "Fix bug #12 in login",
    "billable": True,
    "hourlyRate": {"amount": 5000, "currency": "USD"},
    "tagIds": ["t1", "t2"],
    "projectId": "p1",
    "duration": 3600,
    "ratio": 0.5,
    "start": "2026-11-23T10:00:00Z",
    "nothing": None,
    "tags": [{"name": "a"}, {"name": "b"}],
}

# (path, op, value, expected)
TABLE = [
    ("$.projectId", "==", "p1", True),
    ("$.projectId", "==", "p2", False),
    ("$.duration", "==", 3600.0, True),  # int and float compare as numbers
    ("$.billable", "==", True, True),
    ("$.billable", "==", 1, False),  # booleans are not numbers
    ("$.nothing", "==", None, True),
    ("$.missing", "==", None, False),  # missing is not null
    ("$.projectId", "!=", "p2", True),
    ("$.projectId", "!=", "p1", False),
    ("$.missing", "!=", "p1", True),
    ("$.duration", ">", 3599, True),
    ("$.duration", ">", 3600, False),
    ("$.duration", ">=", 3600, True),
    ("$.ratio", "<", 1, True),
    ("$.ratio", "<=", 0.5, True),
    ("$.ratio", "<=", 0.4, False),
    ("$.start", ">", "2026-11-01", True),  # strings order lexicographically (ISO dates)
    ("$.start", "<", "2026-11-01", False),
    ("$.description", ">", 3, False),  # a string never orders against a number
    ("$.billable", ">", 0, False),
    ("$.missing", ">", 0, False),
    ("$.hourlyRate.amount", ">=", 5000, True),
    ("$.description", "contains", "bug", True),
    ("$.description", "contains", "Bug", False),  # case-sensitive; use matches (?i) otherwise
    ("$.tagIds", "contains", "t2", True),
    ("$.tagIds", "contains", "t9", False),
    ("$.hourlyRate", "contains", "currency", True),  # an object contains a key
    ("$.duration", "contains", "36", False),
    ("$.missing", "contains", "x", False),
    ("$.description", "not_contains", "feature", True),
    ("$.description", "not_contains", "bug", False),
    ("$.missing", "not_contains", "x", True),
    ("$.projectId", "in", ["p0", "p1"], True),
    ("$.projectId", "in", ["p0"], False),
    ("$.missing", "in", [None], False),
    ("$.projectId", "exists", None, True),
    ("$.nothing", "exists", None, True),  # present with null is present
    ("$.missing", "exists", None, False),
    ("$.missing", "not_exists", None, True),
    ("$.projectId", "not_exists", None, False),
    ("$.description", "matches", r"bug #\d+", True),
    ("$.description", "matches", r"^bug", False),
    ("$.description", "matches", r"(?i)^FIX", True),
    ("$.duration", "matches", r"^36\d\d$", True),  # numbers match as text
    ("$.tagIds", "matches", "t1", False),  # lists do not
    ("$.missing", "matches", ".*", False),
    ("$.tags[*].name", "contains", "b", True),  # several nodes: the list of their values
    ("$.tags[?(@.name == 'a')].name", "==", "a", True),  # jsonpath-ng filter extension
]


@pytest.mark.parametrize("path,op,value,expected", TABLE, ids=[f"{p} {o} {v!r}" for p, o, v, _ in TABLE])
def test_operator_table(path, op, value, expected):
    rule = {"path": path, "op": op} if op in cond.UNARY_OPERATORS else {"path": path, "op": op, "value": value}
    assert cond.validate_rule(rule) == {}
    result = cond.evaluate({"mode": "all", "rules": [rule]}, EVENT)
    assert result.matched is expected
    assert result.rules[0].matched is expected


def test_every_operator_is_in_the_table():
    assert {op for _, op, _, _ in TABLE} == set(cond.OPERATORS)


def test_all_and_any_modes_and_no_rules():
    rules = [{"path": "$.projectId", "op": "==", "value": "p1"}, {"path": "$.duration", "op": ">", "value": 9999}]
    assert cond.evaluate({"mode": "all", "rules": rules}, EVENT).matched is False
    any_result = cond.evaluate({"mode": "any", "rules": rules}, EVENT)
    assert any_result.matched is True
    # Every rule is evaluated (no short-circuit) so a test-run can show each.
    assert [r.matched for r in any_result.rules] == [True, False]
    assert cond.evaluate({"mode": "all", "rules": []}, EVENT).matched is True


def test_catastrophic_regex_times_out_and_does_not_match():
    rule = {"path": "$.text", "op": "matches", "value": r"(a|aa)+$"}
    result = cond.evaluate({"rules": [rule]}, {"text": "a" * 5000 + "!"})
    assert result.matched is False
    assert "longer than" in result.rules[0].error


@pytest.mark.parametrize("rule,field,message", [
    ({"path": "$.x", "op": "like", "value": 1}, "op", "unknown operator"),
    ({"path": "$..[", "op": "==", "value": 1}, "path", "not a valid JSONPath"),
    ({"path": "", "op": "==", "value": 1}, "path", "JSONPath"),
    ({"path": "$.x", "op": "=="}, "value", "required"),
    ({"path": "$.x", "op": "in", "value": "abc"}, "value", "list"),
    ({"path": "$.x", "op": ">", "value": [1]}, "value", "number or a string"),
    ({"path": "$.x", "op": "matches", "value": "(unclosed"}, "value", "regular expression"),
    ({"path": "$.x", "op": "matches", "value": "a" * 600}, "value", "longer than"),
    ({"path": "$.x", "op": "matches", "value": ["(a|aa)+$"]}, "value", "string pattern"),  # found by the fuzz
    ({"path": "$.x", "op": "==", "value": 1, "extra": 2}, "extra", "unknown field"),
])
def test_rule_validation_names_the_field(rule, field, message):
    errors = cond.validate_rule(rule)
    assert field in errors and message in errors[field]
