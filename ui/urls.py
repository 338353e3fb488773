"""Iframe pages and the small XHR endpoints behind them (relative to the variant root)."""

from django.urls import path

from ui.views import dashboard, explorer, flows, settings, sources, webhooks

app_name = "ui"

urlpatterns = [
    path("ui/dashboard", dashboard.dashboard, name="dashboard"),
    path("ui/dashboard/bootstrap", dashboard.bootstrap_status, name="bootstrap-status"),
    path("ui/dashboard/bootstrap/run", dashboard.bootstrap_run, name="bootstrap-run"),
    path("ui/webhooks", webhooks.webhook_log, name="webhooks"),
    path("ui/webhooks/rows", webhooks.webhook_rows, name="webhook-rows"),
    path("ui/webhooks/<int:event_id>", webhooks.webhook_detail, name="webhook-detail"),
    path("ui/webhooks/<int:event_id>/replay", webhooks.webhook_replay, name="webhook-replay"),
    path("ui/flows", flows.flow_list, name="flows"),
    path("ui/flows/new", flows.flow_builder, name="flow-new"),
    path("ui/flows/sample-event", flows.sample_event, name="flow-sample-event"),
    path("ui/flows/<str:flow_id>", flows.flow_builder, name="flow-edit"),
    path("ui/flows/<str:flow_id>/runs", flows.flow_run_rows, name="flow-run-rows"),
    path("ui/flows/runs/<str:run_id>", flows.run_detail, name="flow-run"),
    path("ui/explorer", explorer.explorer_page, name="explorer"),
    path("ui/sources", sources.source_list, name="sources"),
    path("ui/sources/rows", sources.source_rows, name="source-rows"),
    path("ui/sources/create", sources.source_create, name="source-create"),
    path("ui/sources/<str:source_id>/rotate", sources.source_rotate, name="source-rotate"),
    path("ui/sources/<str:source_id>/revoke", sources.source_revoke, name="source-revoke"),
    path("ui/settings", settings.settings_page, name="settings"),
]
