"""Webhook URLs, relative to the variant root (included in config.urls' variant_patterns)."""

from django.urls import path

from webhooks import views

urlpatterns = [
    path("webhooks/custom/<str:source_id>", views.custom_webhook, name="webhook-custom"),
    path("webhooks/<str:event_slug>", views.clockify_webhook, name="webhook-clockify"),
]
