"""The user-token authentication shared by every page and JSON API."""

import pytest
from django.test import RequestFactory

from addons.iframe_auth import IframeAuthError, authenticate_iframe_user
from addons.variants import VARIANTS

pytestmark = pytest.mark.django_db


def _request(token=None, header=True):
    rf = RequestFactory()
    if token is None:
        return rf.get("/x")
    if header:
        return rf.get("/x", HTTP_AUTHORIZATION=f"Bearer {token}")
    return rf.get("/x", {"auth_token": token})


def test_valid_user_token_names_installation_and_role(installed):
    ws = installed("universal-webhook")
    user = authenticate_iframe_user(_request(ws.minter.user_token(role="ADMIN", theme="DARK")), ws.variant)
    assert user.installation.workspace_id == ws.workspace_id
    assert user.is_admin and user.theme == "DARK"
    member = authenticate_iframe_user(_request(ws.minter.user_token(role="USER"), header=False), ws.variant)
    assert not member.is_admin


@pytest.mark.parametrize(
    "mutate, reason",
    [
        (lambda ws, keys: None, "missing_token"),
        (lambda ws, keys: ws.minter.user_token(ttl_seconds=-600), "expired"),
        (lambda ws, keys: ws.minter.sign({**ws.minter.base_claims(), "exp": 9999999999}, key=keys.private_pem),
         "bad_signature"),
        (lambda ws, keys: ws.minter.webhook_token(), "wrong_token_kind"),
        (lambda ws, keys: ws.minter.lifecycle_token(), "wrong_token_kind"),
        (lambda ws, keys: ws.minter.installation_token(), "wrong_token_kind"),
        (lambda ws, keys: ws.minter.sign(ws.minter.base_claims(user="u", workspaceRole="OWNER")), "wrong_token_kind"),
        (lambda ws, keys: ws.minter.user_token(workspaceId="another-ws"), "unknown_installation"),
        (lambda ws, keys: ws.minter.user_token(addonId="stale-addon"), "addon_mismatch"),
        (lambda ws, keys: ws.minter.user_token(sub="other-addon"), "wrong_addon_key"),
    ],
)
def test_rejections(installed, foreign_keys, mutate, reason):
    ws = installed("universal-webhook")
    with pytest.raises(IframeAuthError) as exc:
        authenticate_iframe_user(_request(mutate(ws, foreign_keys)), ws.variant)
    assert exc.value.reason == reason


def test_token_for_other_variant_is_rejected(installed):
    ws = installed("universal-webhook")
    with pytest.raises(IframeAuthError):
        authenticate_iframe_user(_request(ws.minter.user_token()), VARIANTS["api-studio"])


def test_deleted_installation_is_rejected(installed, client):
    ws = installed("api-studio")
    assert ws.lifecycle(client, "DELETED").status_code == 200
    with pytest.raises(IframeAuthError) as exc:
        authenticate_iframe_user(_request(ws.minter.user_token()), ws.variant)
    assert exc.value.reason == "unknown_installation"


# --- roles (issue 14, reproduction 6): Clockify's admins are WORKSPACE_ADMIN ------------------------


@pytest.mark.parametrize("role, manages", [
    ("OWNER", True), ("WORKSPACE_ADMIN", True), ("ADMIN", True),
    ("TEAM_MANAGER", False), ("PROJECT_MANAGER", False), ("USER", False), ("", False), ("owner", False),
])
def test_workspace_admin_admin_and_owner_manage_every_other_role_reads(installed, client, role, manages):
    ws = installed("universal-webhook")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {ws.minter.user_token(role=role, user_id='someone')}"}
    flow = {"name": "Tag", "trigger": {"events": ["NEW_TAG"]},
            "actions": [{"type": "clockify", "operation": "createNewTag", "body": {"name": "x"}}]}
    created = client.post("/universal-webhook/api/v1/flows", data=flow, content_type="application/json", **auth)
    assert created.status_code == (201 if manages else 403), created.content
    assert client.get("/universal-webhook/api/v1/flows", **auth).status_code == 200  # every role reads
    runs = client.get("/universal-webhook/api/v1/runs", **auth)
    assert runs.status_code == (200 if manages else 403)
    page = client.get("/universal-webhook/ui/flows/new", {"auth_token": ws.minter.user_token(role=role)})
    assert page.status_code == 200
    assert (b'id="read-only-note"' in page.content) is not manages
