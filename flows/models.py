"""Flows (trigger, conditions, ordered actions) and their runs with per-step results."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q

from installations.models import Installation


def _public_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(12)}"


def new_flow_id() -> str:
    return _public_id("flw")


def new_run_id() -> str:
    return _public_id("run")


class Flow(models.Model):
    installation = models.ForeignKey(Installation, on_delete=models.CASCADE, related_name="flows")
    public_id = models.CharField(max_length=32, unique=True, default=new_flow_id, editable=False)
    name = models.CharField(max_length=200)
    enabled = models.BooleanField(default=True)
    trigger = models.JSONField()  # {"events": [...]} or {"custom_source": "<public id>"}
    conditions = models.JSONField(default=dict, blank=True)  # {"mode": "all"|"any", "rules": [...]}
    actions = models.JSONField(default=list)
    # Bumped on every change, so a run records exactly which definition it executed.
    version = models.PositiveIntegerField(default=1)
    # Standard Webhooks secret ("whsec_..."), Fernet-encrypted; signs http actions with "sign": true.
    signing_secret_encrypted = models.TextField(blank=True, default="", editable=False)
    created_by = models.CharField(max_length=64, blank=True, default="")
    updated_by = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["installation", "enabled"])]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.public_id} v{self.version})"

    def definition(self) -> dict:
        return {"trigger": self.trigger, "conditions": self.conditions, "actions": self.actions}


class FlowSecret(models.Model):
    """A credential of the flow's http actions, used as ``{{secrets.NAME}}``: Fernet-encrypted like
    installation tokens, write-only (set or replaced through the API and the builder, shown to
    support staff only as "set"), masked in everything a run records."""

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="secrets")
    name = models.CharField(max_length=64)
    value_encrypted = models.TextField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["flow", "name"], name="uniq_flow_secret_name")]
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} (set)"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"  # the conditions did not match


TERMINAL_RUN_STATUSES = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.SKIPPED})


class FlowRun(models.Model):
    # A run is inserted and updated twice (claimed, finished) on the hot path, each time in every
    # index: so none is redundant. The composite indexes below lead with the foreign keys, which
    # therefore get no index of their own; public_id is unique by a constraint, which (unlike
    # unique=True) adds no second, LIKE-pattern index.
    public_id = models.CharField(max_length=32, default=new_run_id, editable=False)
    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="runs", db_index=False)
    installation = models.ForeignKey(Installation, on_delete=models.CASCADE, related_name="flow_runs",
                                     db_index=False)
    flow_version = models.PositiveIntegerField()
    definition = models.JSONField()  # the trigger, conditions and actions this run executes
    # The webhook event by id, plus a snapshot of it: runs and events have separate retention,
    # and a run must stay replayable after its event was purged.
    event_id = models.BigIntegerField(null=True, blank=True)
    event_type = models.CharField(max_length=64, blank=True, default="")
    event_payload = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    conditions_result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")
    replay_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays",
                                  db_index=False)
    replay_from_step = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    deadline_at = models.DateTimeField()  # the run's time bound
    next_attempt_at = models.DateTimeField(null=True, blank=True)  # when a waiting run is due (sweeper)
    # A short lease instead of a row lock held across HTTP calls: a second delivery of the task
    # waits for it; a killed worker's lease simply expires.
    lease_token = models.CharField(max_length=32, blank=True, default="", editable=False)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="uniq_flow_run_public_id"),
            models.UniqueConstraint(
                fields=["flow", "event_id"],
                condition=Q(replay_of__isnull=True) & Q(event_id__isnull=False),
                name="uniq_flow_run_per_event",
            ),
        ]
        indexes = [
            models.Index(fields=["installation", "-created_at"]),
            models.Index(fields=["flow", "-created_at"]),
            # The stalled-run sweeper's scan: only runs in flight (finished runs leave the index).
            models.Index(fields=["next_attempt_at"], condition=Q(status__in=["queued", "running"]),
                         name="flow_run_in_flight"),
            models.Index(fields=["created_at"]),
            models.Index(fields=["replay_of"], condition=Q(replay_of__isnull=False), name="flow_run_replay_of"),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.public_id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_RUN_STATUSES


class StepStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"  # the request may be on the wire: decides what a redelivery may do
    RETRYING = "retrying", "Waiting to retry"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class FlowRunStep(models.Model):
    # The unique (run, index) key serves every lookup by run: no separate foreign-key index.
    run = models.ForeignKey(FlowRun, on_delete=models.CASCADE, related_name="steps", db_index=False)
    index = models.PositiveSmallIntegerField()
    action_type = models.CharField(max_length=16)
    status = models.CharField(max_length=16, choices=StepStatus.choices, default=StepStatus.PENDING)
    request = models.JSONField(default=dict, blank=True)  # method, URL, query, headers (redacted), body
    status_code = models.IntegerField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)  # parsed JSON, or {"text": ...}, bounded
    response_truncated = models.BooleanField(default=False)
    duration_ms = models.IntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    copied_from_run = models.CharField(max_length=32, blank=True, default="")  # replay: kept, not re-sent
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="uniq_flow_run_step_index")]
        ordering = ["index"]

    def __str__(self) -> str:
        return f"step {self.index} {self.action_type} ({self.status})"
