"""The session-wide log check (tests/logcheck.py) can fail: inner pytest runs that leak must fail.

Each case runs a small test file in a separate pytest process with the plugin, the project on
``PYTHONPATH`` and the project's settings (so the production logging configuration is in force).
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

MINT = '''
import logging
import jwt

def mint():
    return jwt.encode({"iss": "clockify", "sub": "x", "user": "u"}, "a-test-secret-long-enough-for-hs256", algorithm="HS256")
'''


@pytest.fixture
def inner(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.chdir(pytester.path)
    pytester.makeconftest('pytest_plugins = ["tests.logcheck"]\n')

    def run(body: str):
        pytester.makepyfile(test_inner=MINT + body)
        return pytester.runpytest_subprocess("-p", "no:cacheprovider")

    return run


def test_a_logged_signature_fails_the_run(inner):
    # The redacting filter removes whole JWTs; a signature on its own is not JWT-shaped, and still a leak.
    result = inner('''
def test_leak():
    logging.getLogger("leaky").debug("part of it: %s", mint().rsplit(".", 1)[1])
''')
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*log check: a token or secret of this run was logged*",
                                 "*signature of a minted JWT in a log line of test_inner.py::test_leak*"])
    result.assert_outcomes(passed=1)  # the test itself passed: only the check failed the run


def test_a_token_in_a_subprocess_log_file_fails_the_run(inner):
    result = inner('''
def test_worker_wrote_it(tmp_path):
    (tmp_path / "worker.log").write_text("starting with " + mint() + "\\n")
''')
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*minted JWT in a log line of *worker.log (written by a subprocess)*"])


def test_redacted_tokens_pass(inner):
    result = inner('''
def test_clean():
    assert any(h.name == "console" for h in logging.getLogger().handlers)  # the project's LOGGING is in force
    token = mint()
    logging.getLogger("fine").warning("refused %s", token)  # the whole JWT is scrubbed
    logging.getLogger("fine").warning("refused", extra={"auth_token": token, "url": "/x?auth_token=" + token})
''')
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*log check: no token or secret of this run in any log line*"])
