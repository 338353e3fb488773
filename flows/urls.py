from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from flows import apis

# Mounted under /<variant>/ (config.urls variant_patterns).
urlpatterns = [
    path("api/v1/flows", apis.FlowListAPI.as_view(), name="flows-list"),
    path("api/v1/flows/test-run", apis.DraftTestRunAPI.as_view(), name="flows-draft-test-run"),
    path("api/v1/flows/<str:flow_id>", apis.FlowDetailAPI.as_view(), name="flows-detail"),
    path("api/v1/flows/<str:flow_id>/enable", apis.FlowEnableAPI.as_view(), name="flows-enable"),
    path("api/v1/flows/<str:flow_id>/disable", apis.FlowDisableAPI.as_view(), name="flows-disable"),
    path("api/v1/flows/<str:flow_id>/test-run", apis.FlowTestRunAPI.as_view(), name="flows-test-run"),
    path("api/v1/flows/<str:flow_id>/signing-secret", apis.FlowSecretAPI.as_view(), name="flows-signing-secret"),
    path("api/v1/flows/<str:flow_id>/runs", apis.FlowRunsAPI.as_view(), name="flows-runs"),
    path("api/v1/runs", apis.RunListAPI.as_view(), name="flow-runs-list"),
    path("api/v1/runs/<str:run_id>", apis.RunDetailAPI.as_view(), name="flow-runs-detail"),
    path("api/v1/runs/<str:run_id>/replay", apis.RunReplayAPI.as_view(), name="flow-runs-replay"),
    # The OpenAPI document of the whole /api/v1 JSON API (every app's views), served by drf-spectacular.
    path("api/v1/schema", SpectacularAPIView.as_view(), name="api-schema"),
]
