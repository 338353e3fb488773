from django.contrib import admin, messages

from bootstrap.models import BootstrapRun, BootstrapStep, CachedEntity
from bootstrap.services import bootstrap_start, bootstrap_stop


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(BootstrapRun)
class BootstrapRunAdmin(ReadOnlyAdmin):
    list_display = ("pk", "installation", "status", "trigger", "created_at", "started_at", "finished_at")
    list_filter = ("status", "trigger")
    search_fields = ("installation__workspace_id",)
    readonly_fields = ("installation", "status", "trigger", "options", "planned", "error", "created_at",
                       "started_at", "finished_at", "updated_at")
    actions = ["resume_or_restart", "start_fresh", "cancel"]

    @admin.action(description="Resume (failed) or start a bootstrap")
    def resume_or_restart(self, request, queryset):
        started = sum(1 for run in queryset if bootstrap_start(installation=run.installation, trigger="admin"))
        self.message_user(request, f"Bootstrap requested for {started} installation(s).", messages.SUCCESS)

    @admin.action(description="Start a fresh bootstrap")
    def start_fresh(self, request, queryset):
        started = sum(1 for run in queryset
                      if bootstrap_start(installation=run.installation, trigger="admin", fresh=True))
        self.message_user(request, f"Fresh bootstrap requested for {started} installation(s).", messages.SUCCESS)

    @admin.action(description="Cancel the active run")
    def cancel(self, request, queryset):
        cancelled = sum(bootstrap_stop(installation=run.installation, reason="cancelled by staff")
                        for run in queryset)
        self.message_user(request, f"Cancelled {cancelled} run(s).", messages.SUCCESS)


@admin.register(BootstrapStep)
class BootstrapStepAdmin(ReadOnlyAdmin):
    list_display = ("run", "key", "status", "pages", "items", "next_page", "truncated", "attempts", "updated_at")
    list_filter = ("status", "endpoint", "truncated")
    search_fields = ("run__installation__workspace_id", "key")
    list_select_related = ("run",)


@admin.register(CachedEntity)
class CachedEntityAdmin(ReadOnlyAdmin):
    list_display = ("entity_type", "entity_id", "installation", "fetched_at", "updated_at")
    list_filter = ("entity_type",)
    search_fields = ("entity_id", "installation__workspace_id")
    list_select_related = ("installation",)
