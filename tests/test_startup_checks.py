"""Misconfiguration is refused at start (issue 15, items 6, 7 and 8).

Each case runs the real entry point in a child process with an environment built from scratch:
``manage.py check`` (and ``--deploy``), gunicorn and a Celery worker. The production environment
of docs/deploy.md passes ``check --deploy`` without a single warning; every required or
weakening setting is refused with a message naming the variable, unless DEBUG is on.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# The production environment documented in docs/deploy.md ("Required environment").
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k3J9vQ2mX7pL0sT4wZ8nB1cF6hD5gR3yU9eA2iO7uY4tK1jH8lM0qW6zE5xV3bN",
    "TOKEN_ENCRYPTION_KEYS": "WLjzykPzBc_QiTYOYYT3Efej3AMXfsEiKGu9iqX7lAw=",
    "PUBLIC_BASE_URL": "https://addons.example.com",
    "ALLOWED_HOSTS": "addons.example.com",
    "TRUST_X_FORWARDED_PROTO": "true",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "METRICS_BEARER_TOKEN": "scrape-token-0123456789",
}


def _env(tmp_path: Path, **changes: str | None) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "PYTHONPATH": str(ROOT),
           "DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path / "var"), "LOG_LEVEL": "WARNING",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", **PRODUCTION}
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def _manage(tmp_path: Path, *args: str, **changes: str | None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=_env(tmp_path, **changes),
                          capture_output=True, text=True, timeout=120)


def test_the_documented_production_environment_passes_check_deploy_cleanly(tmp_path):
    result = _manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


REFUSED = [
    # (changes to the production environment, the variable the message must name)
    ({"REQUIRE_SIGNATURE_VERIFICATION": "false"}, "REQUIRE_SIGNATURE_VERIFICATION"),  # item 6
    ({"FLOW_HTTP_ALLOW_PRIVATE_NETWORKS": "true"}, "FLOW_HTTP_ALLOW_PRIVATE_NETWORKS"),  # item 6
    ({"TOKEN_ENCRYPTION_KEYS": None}, "TOKEN_ENCRYPTION_KEYS"),  # item 7
    ({"TOKEN_ENCRYPTION_KEYS": "not-a-fernet-key"}, "TOKEN_ENCRYPTION_KEYS"),
    ({"TOKEN_ENCRYPTION_KEYS": f"{Fernet.generate_key().decode()},short"}, "TOKEN_ENCRYPTION_KEYS"),
    ({"SECRET_KEY": None}, "SECRET_KEY"),
    ({"PUBLIC_BASE_URL": "http://addons.example.com"}, "PUBLIC_BASE_URL"),
    ({"PUBLIC_BASE_URL": "addons.example.com"}, "PUBLIC_BASE_URL"),
    ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS"),
]


@pytest.mark.parametrize("changes,variable", REFUSED, ids=[v + "=" + str(c[v]) for c, v in REFUSED])
def test_manage_py_check_refuses_naming_the_variable(tmp_path, changes, variable):
    result = _manage(tmp_path, "check", **changes)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert variable in output and "Traceback" not in output, output


@pytest.mark.parametrize("changes", [
    {"REQUIRE_SIGNATURE_VERIFICATION": "false"}, {"FLOW_HTTP_ALLOW_PRIVATE_NETWORKS": "true"},
    {"TOKEN_ENCRYPTION_KEYS": None, "SECRET_KEY": None, "PUBLIC_BASE_URL": "http://192.168.1.5:8000"},
])
def test_debug_allows_the_dev_escape_hatches(tmp_path, changes):
    result = _manage(tmp_path, "check", DEBUG="true", **changes)
    assert result.returncode == 0, result.stdout + result.stderr


def test_plain_http_on_a_loopback_address_is_local_use(tmp_path):
    result = _manage(tmp_path, "check", PUBLIC_BASE_URL="http://127.0.0.1:8000", ALLOWED_HOSTS=None)
    assert result.returncode == 0, result.stdout + result.stderr


def _assert_refuses_to_start(command: list[str], env: dict[str, str], log: Path, variable: str) -> None:
    """The process exits by itself (non-zero) within a minute, its output naming ``variable``."""
    with open(log, "w") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
        raise AssertionError(f"still running after 60 s:\n{log.read_text()[-2000:]}") from None
    assert proc.returncode != 0 and variable in log.read_text(), log.read_text()[-2000:]


@pytest.mark.e2e
@pytest.mark.parametrize("changes,variable", [REFUSED[2], REFUSED[0]], ids=["no_keys", "no_signatures"])
def test_gunicorn_refuses_to_start(tmp_path, changes, variable):
    """Item 7 as an operator met it: gunicorn from the README's table without TOKEN_ENCRYPTION_KEYS."""
    env = _env(tmp_path, GUNICORN_BIND="127.0.0.1:0", WEB_CONCURRENCY="1", **changes)
    _assert_refuses_to_start([str(BIN / "gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"], env,
                             tmp_path / "gunicorn.log", variable)


@pytest.mark.e2e
@pytest.mark.parametrize("changes,variable", [REFUSED[2], REFUSED[1]], ids=["no_keys", "private_networks"])
def test_the_celery_worker_refuses_to_start(tmp_path, changes, variable):
    env = _env(tmp_path, CELERY_BROKER_URL="filesystem://", **changes)
    _assert_refuses_to_start([str(BIN / "celery"), "-A", "config", "worker", "--pool", "solo", "-Q", "default",
                              "--without-gossip", "--without-mingle", "--without-heartbeat"], env,
                             tmp_path / "worker.log", variable)
