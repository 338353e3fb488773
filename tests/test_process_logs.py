"""The web process's own log lines (gunicorn's access log and the platform's JSON lines) never
carry a token: refused pages, refused webhooks and refused lifecycle calls against a real gunicorn.

The session-wide check (tests/logcheck.py) reads these files again at the end of the run.
"""

from __future__ import annotations

import json

import pytest
import requests
from django.db import connection

from tests.faults import procs
from tests.faults.load import child_database_url

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120), pytest.mark.django_db(transaction=True)]


def test_gunicorn_and_platform_log_lines_carry_no_token(installed, clockify_keys, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the web process shares the test database: needs PostgreSQL")
    ws = installed("universal-webhook")
    port = procs.free_port()
    base = f"http://127.0.0.1:{port}"
    access_log, web_log = tmp_path / "access.log", tmp_path / "web.log"
    env = procs.child_env(DATABASE_URL=child_database_url(), CLOCKIFY_PUBLIC_KEY=clockify_keys.public_pem,
                          GUNICORN_ACCESSLOG=str(access_log), LOG_LEVEL="INFO", REDIS_URL="",
                          ALLOWED_HOSTS="127.0.0.1,localhost")
    member = ws.minter.user_token(role="USER", user_id="member-1")
    webhook_token = ws.installed_body()["webhooks"][0]["authToken"]
    used = [member, webhook_token, ws.minter.installation_token()]
    web = procs.start_gunicorn(port, env, web_log, workers=1)
    try:
        session = requests.Session()
        statuses = [
            session.get(f"{base}/universal-webhook/ui/webhooks/1", params={"auth_token": member}).status_code,
            session.get(f"{base}/universal-webhook/ui/dashboard", params={"auth_token": webhook_token}).status_code,
            session.get(f"{base}/universal-webhook/ui/nowhere", params={"auth_token": member}).status_code,
            session.post(f"{base}/universal-webhook/webhooks/new-project", data=json.dumps({"id": "p"}),
                         headers={"clockify-signature": member, "clockify-webhook-event-type": "NEW_PROJECT",
                                  "Content-Type": "application/json"}).status_code,
            session.post(f"{base}/universal-webhook/lifecycle/status-changed",
                         data=json.dumps({"workspaceId": ws.workspace_id, "status": "INACTIVE"}),
                         headers={"X-Addon-Lifecycle-Token": used[2], "Content-Type": "application/json"}).status_code,
        ]
    finally:
        procs.stop(web)
    assert statuses == [403, 401, 404, 401, 401]
    access, platform = access_log.read_text(), web_log.read_text()
    assert '"GET /universal-webhook/ui/webhooks/1 HTTP/1.1" 403' in access  # request lines are there ...
    assert "Forbidden: /universal-webhook/ui/webhooks/1" in platform and "wrong_token_kind" in platform
    for token in used:  # ... without a token, whole or in part
        for text in (access, platform):
            assert token not in text and token.rsplit(".", 1)[1] not in text
    assert "auth_token" not in access
