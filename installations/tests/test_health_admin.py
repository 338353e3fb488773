import pytest
from django.contrib.auth import get_user_model

from installations.models import Installation

pytestmark = pytest.mark.django_db


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_ok(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


def test_readyz_503_when_broker_unreachable(client, settings):
    from config.celery import app

    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = client.get("/readyz")
    finally:
        app.conf.broker_url = original
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == "ok" and body["checks"]["broker"].startswith("error")


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser("support", "support@example.com", "pw-for-tests-only")
    client.force_login(user)
    return client


def test_admin_lists_searches_and_never_shows_tokens(staff_client, installed):
    ws = installed("api-studio")
    installation = Installation.objects.get(workspace_id=ws.workspace_id)
    listing = staff_client.get("/admin/installations/installation/", {"q": ws.workspace_id})
    assert listing.status_code == 200 and ws.workspace_id.encode() in listing.content
    filtered = staff_client.get("/admin/installations/installation/", {"variant": "universal-webhook"})
    assert ws.workspace_id.encode() not in filtered.content
    detail = staff_client.get(f"/admin/installations/installation/{installation.pk}/change/")
    assert detail.status_code == 200
    assert installation.token_encrypted.encode() not in detail.content
    assert b"token_sha256" not in detail.content
    for sub in installation.webhook_subscriptions.all():
        assert sub.token_sha256.encode() not in detail.content


def test_admin_rerun_bootstrap_action(staff_client, installed):
    ws = installed("universal-webhook")
    installation = Installation.objects.get(workspace_id=ws.workspace_id)
    response = staff_client.post(
        "/admin/installations/installation/",
        {"action": "rerun_bootstrap", "_selected_action": [installation.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert b"Bootstrap requested" in response.content
