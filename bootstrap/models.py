"""GET bootstrap runs, their per-endpoint steps, and the entity cache they (and webhooks) fill."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from installations.models import Installation


class RunStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_RUN_STATUSES = (RunStatus.PENDING, RunStatus.RUNNING)


class StepStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"  # Clockify said 403/404: not available on this workspace


class BootstrapRun(models.Model):
    installation = models.ForeignKey(Installation, on_delete=models.CASCADE, related_name="bootstrap_runs")
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.PENDING)
    trigger = models.CharField(max_length=16, default="manual")  # install | admin | api | manual
    # What the run fetches, fixed when it is planned (after the settings step) so a resumed run
    # keeps the same window, caps and endpoint set.
    options = models.JSONField(default=dict, blank=True)
    planned = models.BooleanField(default=False)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # One run at a time per installation.
            models.UniqueConstraint(
                fields=["installation"], condition=Q(status__in=["pending", "running"]),
                name="uniq_active_bootstrap_run",
            ),
        ]
        indexes = [models.Index(fields=["installation", "-created_at"]), models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"bootstrap #{self.pk} {self.status}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_RUN_STATUSES


class BootstrapStep(models.Model):
    """One endpoint (or one endpoint for one parent, e.g. the tasks of one project) of a run.

    ``next_page`` is committed with each page's entities, so a restarted worker continues from
    the first page not yet stored. ``lease_until`` marks a step a live worker is fetching; a step
    whose lease ran out (its worker died) is claimed again.
    """

    run = models.ForeignKey(BootstrapRun, on_delete=models.CASCADE, related_name="steps")
    installation = models.ForeignKey(Installation, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)  # endpoint name, or "<endpoint>:<parent id>"
    endpoint = models.CharField(max_length=60)
    parent_id = models.CharField(max_length=64, blank=True, default="")
    priority = models.PositiveSmallIntegerField(default=50)
    status = models.CharField(max_length=16, choices=StepStatus.choices, default=StepStatus.PENDING)
    pages = models.PositiveIntegerField(default=0)
    items = models.PositiveIntegerField(default=0)
    next_page = models.PositiveIntegerField(default=1)
    truncated = models.BooleanField(default=False)
    last_error = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=120, blank=True, default="")  # host:pid of the last driver
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="uniq_bootstrap_step_key")]
        indexes = [models.Index(fields=["run", "status", "priority"])]

    def __str__(self) -> str:
        return f"{self.key} {self.status}"


class CachedEntity(models.Model):
    """The latest known JSON of one Clockify entity of an installation's workspace."""

    # Every index costs each write, and every processed event writes here: the unique key below
    # (installation, entity_type, entity_id) also serves every lookup by installation and type.
    installation = models.ForeignKey(Installation, on_delete=models.CASCADE, related_name="cached_entities",
                                     db_index=False)
    entity_type = models.CharField(max_length=40)  # addons.catalog entity types: "projects", "time-entries"
    entity_id = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    fetched_at = models.DateTimeField(null=True, blank=True)  # last bootstrap fetch
    updated_at = models.DateTimeField(db_index=True)  # last change from a fetch or a webhook event

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["installation", "entity_type", "entity_id"], name="uniq_cached_entity"),
        ]
        verbose_name_plural = "cached entities"

    def __str__(self) -> str:
        return f"{self.entity_type}/{self.entity_id}"
