"""Webhook tokens INSTALLED did not carry are learned from getAddonWebhooks (issue 20, item 4).

INSTALLED is sent once per installation: a webhook a later manifest version added, or a token the
platform lost, would otherwise be refused until a reinstall. A genuine token at a path with no
stored token triggers one getAddonWebhooks call (at most once per interval per installation)."""

from __future__ import annotations

import pytest

from installations.models import Installation, WebhookSubscription
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db


def _refresh_calls(standin, side) -> int:
    return standin.request_log.count(path_contains=f"/addons/{side.addon_id}/webhooks", method="GET")


@pytest.fixture
def side(client, clockify_side, standin):
    side = clockify_side("api-studio", platform=client, standin=standin)
    assert side.install().status_code == 200
    return side


def _forget(side, event: str) -> None:
    installation = Installation.objects.get(variant=side.variant_slug, workspace_id=side.workspace_id)
    WebhookSubscription.objects.filter(installation=installation, event=event).delete()


def test_a_lost_token_is_learned_from_get_addon_webhooks(side, standin):
    _forget(side, "NEW_TAG")
    response = side.send_webhook("NEW_TAG")
    assert response.status_code == 200, response.content
    assert _refresh_calls(standin, side) == 1
    assert WebhookEvent.objects.filter(event_type="NEW_TAG").count() == 1
    # Learned for good: the next delivery needs no call.
    assert side.send_webhook("NEW_TAG").status_code == 200
    assert _refresh_calls(standin, side) == 1


def test_a_webhook_added_by_a_later_manifest_version_works_without_a_reinstall(side, standin):
    _forget(side, "NEW_PROJECT")  # the installed manifest version did not have it
    side.add_addon_webhook("NEW_PROJECT")  # the published new version does: Clockify registered it
    assert side.send_webhook("NEW_PROJECT").status_code == 200
    stored = WebhookSubscription.objects.get(installation__workspace_id=side.workspace_id, event="NEW_PROJECT")
    assert stored.path == "/webhooks/new-project" and stored.webhook_type == "ADDON"


def test_refresh_is_rate_limited_per_installation_and_a_token_clockify_does_not_list_is_refused(side, standin):
    _forget(side, "NEW_TAG")
    _forget(side, "NEW_CLIENT")
    standin.set_addon_webhooks(side.workspace_id, side.addon_id, [])  # Clockify lists nothing for us
    first = side.send_webhook("NEW_TAG")
    assert first.status_code == 401 and first.json()["error"] == "unknown_path"
    second = side.send_webhook("NEW_CLIENT")
    assert second.status_code == 401
    assert _refresh_calls(standin, side) == 1  # one call per interval, whatever arrives meanwhile
    assert not WebhookEvent.objects.exists()


def test_a_forged_token_never_makes_the_platform_call_clockify(side, standin, foreign_keys, clockify_side):
    _forget(side, "NEW_TAG")
    forger = clockify_side("api-studio", platform=side.http.client, workspace_id=side.workspace_id,
                           addon_id=side.addon_id, private_pem=foreign_keys.private_pem)
    forged = forger.minter.webhook_token()
    assert side.send_webhook("NEW_TAG", token=forged).status_code == 401
    assert _refresh_calls(standin, side) == 0
    assert not WebhookEvent.objects.exists()
