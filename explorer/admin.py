from django.contrib import admin

from explorer.models import ExplorerCall, OpenAPIDocument


@admin.register(OpenAPIDocument)
class OpenAPIDocumentAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "version", "operation_count", "source", "synced_at", "checked_at"]
    readonly_fields = ["source", "sha256", "title", "version", "operation_count", "synced_at", "checked_at"]
    exclude = ["compiled"]  # hundreds of KB of JSON; inspect it through the explorer instead

    def has_add_permission(self, request) -> bool:  # documents come from sync_openapi only
        return False


@admin.register(ExplorerCall)
class ExplorerCallAdmin(admin.ModelAdmin):
    list_display = ["id", "installation", "user_id", "method", "path", "status_code", "latency_ms", "created_at"]
    list_filter = ["method", "status_code", "used_installation_token"]
    search_fields = ["operation_id", "installation__workspace_id", "user_id"]
    list_select_related = ["installation"]
    readonly_fields = [f.name for f in ExplorerCall._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
