"""An add-on installation on one Clockify workspace, and the webhook tokens it was given."""

from __future__ import annotations

from django.db import models


class InstallationStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "Active"
    INACTIVE = "INACTIVE", "Inactive"
    DELETED = "DELETED", "Deleted"


class Installation(models.Model):
    variant = models.CharField(max_length=40, db_index=True)
    workspace_id = models.CharField(max_length=64)
    addon_id = models.CharField(max_length=64)
    addon_user_id = models.CharField(max_length=64, blank=True, default="")
    as_user = models.CharField(max_length=64, blank=True, default="")
    owner_user_id = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=16, choices=InstallationStatus.choices, default=InstallationStatus.ACTIVE)
    # The installation token (X-Addon-Token), Fernet-encrypted; empty once deleted.
    token_encrypted = models.TextField(blank=True, default="", editable=False)
    # API base URLs from the installation token's signed claims (never hard-coded); api_url is the
    # unsigned INSTALLED body's, kept for support staff and never called.
    api_url = models.URLField(max_length=300, blank=True, default="")
    backend_url = models.URLField(max_length=300, blank=True, default="")
    reports_url = models.URLField(max_length=300, blank=True, default="")
    locations_url = models.URLField(max_length=300, blank=True, default="")
    screenshots_url = models.URLField(max_length=300, blank=True, default="")
    pto_url = models.URLField(max_length=300, blank=True, default="")
    # Values Clockify sent in SETTINGS_UPDATED, by setting id (already coerced to their types).
    settings = models.JSONField(default=dict, blank=True)
    installed_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["variant", "workspace_id"], name="uniq_installation_variant_workspace"),
        ]
        indexes = [models.Index(fields=["workspace_id"]), models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.variant} @ {self.workspace_id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status == InstallationStatus.ACTIVE

    @property
    def is_deleted(self) -> bool:
        return self.status == InstallationStatus.DELETED

    @property
    def variant_spec(self):  # -> addons.variants.Variant
        from addons.variants import VARIANTS

        return VARIANTS[self.variant]


class WebhookSubscription(models.Model):
    """One webhook Clockify registered at install time: its path, event and token hash."""

    installation = models.ForeignKey(Installation, on_delete=models.CASCADE, related_name="webhook_subscriptions")
    event = models.CharField(max_length=64)
    path = models.CharField(max_length=200)  # relative to the variant's baseUrl, e.g. /webhooks/new-tag
    token_sha256 = models.CharField(max_length=64)
    webhook_type = models.CharField(max_length=32, default="ADDON")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["installation", "path"], name="uniq_webhook_subscription_path"),
        ]

    def __str__(self) -> str:
        return f"{self.event} -> {self.path}"
