"""Credentials of http actions are never shown to a non-admin (issue 14, reproduction 2).

Readers (every role but OWNER/WORKSPACE_ADMIN/ADMIN) may read flows, not the credentials written
into them: header values, URL paths and query values (Slack hook paths, ``?api_key=``) and
secret-looking body fields. Admins see what they wrote; secrets kept as flow secrets
(``{{secrets.NAME}}``, test_flow_secrets.py) are shown to nobody.
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.django_db

SECRETS = ("HEADERSECRET123", "SLACKPATHSECRET", "QUERYSECRET123", "BODYSECRET123", "NESTEDSECRET123")

LEAKY_FLOW = {
    "name": "Notify Slack",
    "trigger": {"events": ["NEW_TIME_ENTRY"]},
    "actions": [{
        "type": "http", "method": "POST",
        "url": "https://hooks.slack.com/services/T000/B000/SLACKPATHSECRET?api_key=QUERYSECRET123&team={{event.id}}",
        "headers": {"Authorization": "Bearer HEADERSECRET123", "X-Trace": "{{event.id}}"},
        "body": {"text": "{{event.description}}", "password": "BODYSECRET123",
                 "auth": {"client_secret": "NESTEDSECRET123", "scope": "chat"}},
    }],
}


@pytest.fixture
def leaky(uw):
    created = uw.post("/flows", LEAKY_FLOW)
    assert created.status_code == 201, created.content
    return uw, created.json()["id"]


@pytest.mark.parametrize("role", ["USER", "TEAM_MANAGER", "PROJECT_MANAGER"])
def test_readers_never_see_http_action_credentials(leaky, role):
    uw, flow_id = leaky
    reader = uw.as_role(role)
    for response in (reader.get("/flows"), reader.get(f"/flows/{flow_id}")):
        assert response.status_code == 200
        text = response.content.decode()
        assert not [s for s in SECRETS if s in text], (role, text)
    action = reader.get(f"/flows/{flow_id}").json()["actions"][0]
    assert action["url"].startswith("https://hooks.slack.com/")  # where it goes is not a secret
    assert action["headers"]["X-Trace"] == "[redacted]" and set(action["headers"]) == {"Authorization", "X-Trace"}
    assert action["body"]["text"] == "{{event.description}}" and action["body"]["auth"]["scope"] == "chat"


@pytest.mark.parametrize("role", ["OWNER", "WORKSPACE_ADMIN", "ADMIN"])
def test_admins_see_what_they_wrote(leaky, role):
    uw, flow_id = leaky
    action = uw.as_role(role).get(f"/flows/{flow_id}").json()["actions"][0]
    assert action == LEAKY_FLOW["actions"][0]
    assert all(s in json.dumps(action) for s in SECRETS)
