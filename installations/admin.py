from django.contrib import admin, messages

from installations import signals
from installations.models import Installation, WebhookSubscription


class WebhookSubscriptionInline(admin.TabularInline):
    model = WebhookSubscription
    fields = ("event", "path", "webhook_type", "created_at")  # never the token hash
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Installation)
class InstallationAdmin(admin.ModelAdmin):
    list_display = ("workspace_id", "variant", "status", "addon_id", "installed_at", "updated_at")
    list_filter = ("variant", "status")
    search_fields = ("workspace_id", "addon_id")
    # token_encrypted is not editable and never listed: support staff never see tokens.
    readonly_fields = (
        "variant", "workspace_id", "addon_id", "addon_user_id", "as_user", "owner_user_id", "status",
        "api_url", "backend_url", "reports_url", "locations_url", "screenshots_url", "pto_url", "settings",
        "installed_at", "updated_at", "status_changed_at", "deleted_at",
    )
    exclude = ("token_encrypted",)
    inlines = [WebhookSubscriptionInline]
    actions = ["rerun_bootstrap"]

    def has_add_permission(self, request) -> bool:  # installations come only from Clockify
        return False

    @admin.action(description="Re-run the bootstrap")
    def rerun_bootstrap(self, request, queryset):
        from installations.hooks import request_bootstrap

        started = 0
        for installation in queryset.exclude(status="DELETED"):
            if request_bootstrap(installation=installation):
                started += 1
        self.message_user(request, f"Bootstrap requested for {started} installation(s).", messages.SUCCESS)
