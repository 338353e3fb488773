"""docs/security.md proves each line with a named test: every test it names must exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_REF = re.compile(r"`([\w/]+\.py)?::(test_\w+)(?:\[[^\]]*\])?`")


def test_every_test_named_in_the_threat_model_exists():
    doc = (ROOT / "docs" / "security.md").read_text()
    current = None
    named = []
    for path, name in _REF.findall(doc):
        current = path or current  # "`::test_x`" continues the file named last
        named.append((current, name))
    assert len(named) > 30
    missing = [f"{path}::{name}" for path, name in named
               if not re.search(rf"^def {name}\(", (ROOT / path).read_text(), re.M)]
    assert not missing, missing
