"""Support staff's view of the event log, custom sources and workspace webhooks."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.utils.html import format_html

from webhooks import services
from webhooks.models import CustomSource, CustomSourceSecret, WebhookEvent, WorkspaceWebhook


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ("id", "event_type", "status", "source", "installation", "entity_id", "received_at",
                    "attempts", "replay_of")
    list_filter = ("status", "source", "installation__variant", "event_type", "received_at")
    search_fields = ("=id", "event_type", "entity_id", "user_id", "project_id", "workspace_id",
                     "installation__workspace_id", "custom_source__public_id")
    date_hierarchy = "received_at"
    list_select_related = ("installation",)
    show_full_result_count = False  # the log is large: skip the second COUNT(*)
    ordering = ("-received_at",)
    actions = ("replay_events",)
    exclude = ("payload", "headers", "raw_body")
    readonly_fields = tuple(
        f.name for f in WebhookEvent._meta.fields if f.name not in ("payload", "headers", "raw_body")
    ) + ("payload_pretty", "headers_pretty")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="payload")
    def payload_pretty(self, obj: WebhookEvent) -> str:
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>",
                           json.dumps(obj.payload, indent=2, ensure_ascii=False, sort_keys=True))

    @admin.display(description="headers (signatures removed)")
    def headers_pretty(self, obj: WebhookEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.headers, indent=2, sort_keys=True))

    @admin.action(description="Replay selected events (each as a new event)")
    def replay_events(self, request, queryset):
        done, refused = 0, 0
        for event in queryset.order_by("received_at")[: services.replay.MAX_REPLAY_BATCH]:
            try:
                services.webhook_event_replay(event=event)
                done += 1
            except services.ReplayError:
                refused += 1
        self.message_user(request, f"Replayed {done} event(s).", messages.SUCCESS)
        if refused:
            self.message_user(request, f"{refused} event(s) belong to inactive or deleted installations.",
                              messages.WARNING)


class CustomSourceSecretInline(admin.TabularInline):
    model = CustomSourceSecret
    fields = ("hint", "created_at", "expires_at", "revoked_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CustomSource)
class CustomSourceAdmin(admin.ModelAdmin):
    list_display = ("name", "public_id", "installation", "created_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "public_id", "installation__workspace_id")
    readonly_fields = ("installation", "public_id", "created_at", "revoked_at")
    inlines = (CustomSourceSecretInline,)
    actions = ("revoke_sources",)

    def has_add_permission(self, request) -> bool:
        return False  # created from the add-on's pages, where the secret is shown once

    @admin.action(description="Revoke selected sources")
    def revoke_sources(self, request, queryset):
        for source in queryset:
            services.custom_source_revoke(source=source)
        self.message_user(request, f"Revoked {queryset.count()} source(s).", messages.SUCCESS)


@admin.register(WorkspaceWebhook)
class WorkspaceWebhookAdmin(admin.ModelAdmin):
    """Read-only: the platform registers and removes them (webhooks.services.workspace_webhooks)."""

    list_display = ("event", "state", "installation", "clockify_id", "updated_at")
    list_filter = ("state", "event")
    search_fields = ("installation__workspace_id", "clockify_id")
    fields = ("installation", "event", "state", "reason", "clockify_id", "updated_at")  # never the token hash
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
