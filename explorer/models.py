"""The synced OpenAPI catalogue (compiled, cached in the database) and the explorer's call log."""

from __future__ import annotations

from django.db import models


class OpenAPIDocument(models.Model):
    """One synced OpenAPI document in compiled form; the newest row is the active catalogue."""

    source = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    title = models.CharField(max_length=200, blank=True, default="")
    version = models.CharField(max_length=100, blank=True, default="")
    operation_count = models.PositiveIntegerField(default=0)
    # Output of explorer.catalog.compiler.compile_document: operations with $refs resolved.
    compiled = models.JSONField()
    synced_at = models.DateTimeField(auto_now_add=True)
    checked_at = models.DateTimeField(auto_now=True)  # last sync that found this same document

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.title or self.source} ({self.operation_count} operations)"


class ExplorerCall(models.Model):
    """One operation executed from the explorer. Never holds a token; bodies are cut to a bound."""

    installation = models.ForeignKey("installations.Installation", on_delete=models.CASCADE,
                                     related_name="explorer_calls")
    user_id = models.CharField(max_length=64)  # the Clockify user who ran it
    used_installation_token = models.BooleanField(default=False)  # admin call vs the user's own token
    operation_id = models.CharField(max_length=200)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)  # the template, e.g. /v1/workspaces/{workspaceId}/tags
    host = models.CharField(max_length=20, default="backend")
    request_summary = models.JSONField(default=dict, blank=True)  # params and query; body cut to a bound
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)  # null: never answered
    latency_ms = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_excerpt = models.TextField(blank=True, default="")  # cut to EXPLORER_LOG_BODY_BYTES
    response_bytes = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["installation", "-id"], name="explorer_call_inst_recent")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status_code}"
