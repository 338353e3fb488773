from django.urls import path

from explorer import apis

# Mounted under /<variant>/ (config.urls variant_patterns).
urlpatterns = [
    path("api/v1/explorer/tags", apis.TagTreeAPI.as_view(), name="explorer-tags"),
    path("api/v1/explorer/operations", apis.OperationSearchAPI.as_view(), name="explorer-operations"),
    path("api/v1/explorer/operations/<str:operation_id>", apis.OperationDetailAPI.as_view(),
         name="explorer-operation"),
    path("api/v1/explorer/execute", apis.ExecuteAPI.as_view(), name="explorer-execute"),
    path("api/v1/explorer/calls", apis.CallListAPI.as_view(), name="explorer-calls"),
    path("api/v1/explorer/save-as-flow-action", apis.SaveAsFlowActionAPI.as_view(),
         name="explorer-save-as-flow-action"),
]
