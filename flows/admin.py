"""Support staff: inspect flows and runs; re-enable/disable and replay through the services."""

from __future__ import annotations

from django.contrib import admin, messages

from flows import services
from flows.models import Flow, FlowRun, FlowRunStep, FlowSecret


class FlowSecretInline(admin.TabularInline):
    """Secrets by name: support staff see that one is set, never its value (nor its ciphertext)."""

    model = FlowSecret
    fields = ("name", "value", "updated_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="value")
    def value(self, obj: FlowSecret) -> str:
        return "set"


@admin.register(Flow)
class FlowAdmin(admin.ModelAdmin):
    list_display = ("public_id", "name", "installation", "enabled", "version", "updated_at")
    list_filter = ("enabled", "installation__variant")
    search_fields = ("public_id", "name", "installation__workspace_id")
    # Edited through the API (validated there); staff see definitions, never the signing secret.
    readonly_fields = ("public_id", "installation", "name", "enabled", "trigger", "conditions", "actions", "version",
                       "created_by", "updated_by", "created_at", "updated_at")
    exclude = ("signing_secret_encrypted",)
    inlines = [FlowSecretInline]
    actions = ["enable", "disable"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Enable selected flows")
    def enable(self, request, queryset):
        for flow in queryset:
            services.flow_set_enabled(flow=flow, enabled=True, user_id="admin")
        self.message_user(request, f"Enabled {queryset.count()} flow(s).", messages.SUCCESS)

    @admin.action(description="Disable selected flows")
    def disable(self, request, queryset):
        for flow in queryset:
            services.flow_set_enabled(flow=flow, enabled=False, user_id="admin")
        self.message_user(request, f"Disabled {queryset.count()} flow(s).", messages.SUCCESS)


class FlowRunStepInline(admin.TabularInline):
    model = FlowRunStep
    fields = ("index", "action_type", "status", "status_code", "attempts", "duration_ms", "error", "request",
              "response", "response_truncated", "copied_from_run")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(FlowRun)
class FlowRunAdmin(admin.ModelAdmin):
    list_display = ("public_id", "flow", "status", "event_type", "flow_version", "created_at", "finished_at")
    list_filter = ("status", "event_type")
    search_fields = ("public_id", "flow__public_id", "installation__workspace_id")
    readonly_fields = ("public_id", "flow", "installation", "flow_version", "definition", "event_id", "event_type",
                       "event_payload", "status", "conditions_result", "error", "replay_of", "replay_from_step",
                       "created_at", "started_at", "finished_at", "deadline_at", "next_attempt_at")
    exclude = ("lease_token", "lease_until")
    inlines = [FlowRunStepInline]
    actions = ["replay_failed_step", "replay_start"]
    list_select_related = ("flow",)

    def has_add_permission(self, request) -> bool:
        return False

    def _replay(self, request, queryset, start: str) -> None:
        done, refused = 0, []
        for run in queryset:
            try:
                services.flow_run_replay(run=run, start=start)
                done += 1
            except services.ReplayError as exc:
                refused.append(f"{run.public_id}: {exc}")
        self.message_user(request, f"Replayed {done} run(s).", messages.SUCCESS)
        for message in refused[:10]:
            self.message_user(request, message, messages.WARNING)

    @admin.action(description="Replay from the failed step")
    def replay_failed_step(self, request, queryset):
        self._replay(request, queryset, "failed")

    @admin.action(description="Replay from the start")
    def replay_start(self, request, queryset):
        self._replay(request, queryset, "start")
