"""The webhook event log and custom webhook sources.

Other apps import ``WebhookEvent`` and ``CustomSource``: keep these names and fields stable.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from installations.models import Installation


class EventSource(models.TextChoices):
    CLOCKIFY = "clockify", "Clockify"
    CUSTOM = "custom", "Custom"


class EventStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"


class CustomSource(models.Model):
    """An external system allowed to post to ``/<variant>/webhooks/custom/<public_id>``."""

    installation = models.ForeignKey(Installation, on_delete=models.CASCADE, related_name="custom_sources")
    name = models.CharField(max_length=100)
    # Random and unguessable; the only identifier in the URL (never the primary key).
    public_id = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["installation", "name"], name="uniq_custom_source_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.public_id})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class CustomSourceSecret(models.Model):
    """A signing secret of a source. Several can be active at once so senders can rotate."""

    source = models.ForeignKey(CustomSource, on_delete=models.CASCADE, related_name="secrets")
    # HMAC needs the plaintext, so the secret is encrypted (installations.crypto), not hashed.
    secret_encrypted = models.TextField(editable=False)
    hint = models.CharField(max_length=16)  # "whsec_AbCd…": enough to tell secrets apart, not to use one
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)  # set when a newer secret replaces it
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.hint}… ({'revoked' if self.revoked_at else 'active'})"

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class WebhookEvent(models.Model):
    # Every index costs each insert on the hot path, so none is redundant: the installation column
    # is the prefix of the composite indexes below, and the two nullable foreign keys (set on few
    # rows) get partial indexes instead of full ones.
    installation = models.ForeignKey(
        Installation, on_delete=models.CASCADE, related_name="webhook_events", db_index=False
    )
    source = models.CharField(max_length=16, choices=EventSource.choices, default=EventSource.CLOCKIFY)
    custom_source = models.ForeignKey(
        CustomSource, null=True, blank=True, on_delete=models.SET_NULL, related_name="events", db_index=False
    )
    event_type = models.CharField(max_length=64)
    received_at = models.DateTimeField(default=timezone.now)
    headers = models.JSONField(default=dict, blank=True)  # signatures and tokens removed
    raw_body = models.TextField(blank=True, default="")
    payload = models.JSONField(null=True, blank=True)
    # Ids derived from the body (addons.catalog says which entity type an event carries).
    workspace_id = models.CharField(max_length=64, blank=True, default="")
    user_id = models.CharField(max_length=64, blank=True, default="")
    entity_id = models.CharField(max_length=64, blank=True, default="")
    project_id = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=16, choices=EventStatus.choices, default=EventStatus.RECEIVED)
    # sha256 of what makes a delivery "the same"; NULL for replays (they are meant to run again).
    dedupe_key = models.CharField(max_length=64, null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    replay_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays", db_index=False
    )
    # Last time the sweeper re-enqueued this event, so a backlog is not re-enqueued on every sweep.
    swept_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["installation", "dedupe_key"], name="uniq_webhook_event_dedupe"),
        ]
        indexes = [
            models.Index(fields=["installation", "received_at"], name="wh_event_inst_received"),
            models.Index(fields=["installation", "event_type", "received_at"], name="wh_event_inst_type_received"),
            models.Index(fields=["installation", "status"], name="wh_event_inst_status"),
            # The sweeper's scan: only the (few) rows still waiting.
            models.Index(fields=["received_at"], condition=Q(status="received"), name="wh_event_waiting"),
            models.Index(fields=["custom_source"], condition=Q(custom_source__isnull=False),
                         name="wh_event_custom_source"),
            models.Index(fields=["replay_of"], condition=Q(replay_of__isnull=False), name="wh_event_replay_of"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.pk} ({self.status})"

    @property
    def is_replay(self) -> bool:
        return self.replay_of_id is not None


class WorkspaceWebhookState(models.TextChoices):
    PENDING = "pending", "Pending"  # wanted, not registered yet
    REGISTERED = "registered", "Registered"
    PLAN_LIMIT = "plan_limit", "Refused by the plan's webhook limit"
    FAILED = "failed", "Failed"


class WorkspaceWebhook(models.Model):
    """A Clockify workspace webhook the platform registered (``createWebhook``) for an event no
    manifest can subscribe to; deliveries are verified against the hash of its ``authToken``."""

    installation = models.ForeignKey(Installation, on_delete=models.CASCADE, related_name="workspace_webhooks")
    event = models.CharField(max_length=64)
    clockify_id = models.CharField(max_length=64, blank=True, default="")  # Clockify's webhook id
    # sha256 of the authToken createWebhook returned; empty while not registered or being removed.
    token_sha256 = models.CharField(max_length=64, blank=True, default="", db_index=True)
    state = models.CharField(max_length=16, choices=WorkspaceWebhookState.choices,
                             default=WorkspaceWebhookState.PENDING)
    reason = models.CharField(max_length=500, blank=True, default="")  # Clockify's answer when not registered
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["installation", "event"], name="uniq_workspace_webhook_event"),
        ]

    def __str__(self) -> str:
        return f"{self.event} ({self.state})"
