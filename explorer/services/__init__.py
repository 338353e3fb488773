"""Explorer writes: catalogue sync, executing operations (and their call log), save as flow action."""

from explorer.services.catalog_sync import SyncResult, openapi_reset, openapi_sync, openapi_sync_if_due
from explorer.services.execute import ExecutionResult, operation_authorize, operation_execute
from explorer.services.flow_actions import flow_action_build, operation_save_as_flow_action

__all__ = [
    "ExecutionResult", "SyncResult", "flow_action_build", "openapi_reset", "openapi_sync", "openapi_sync_if_due",
    "operation_authorize", "operation_execute", "operation_save_as_flow_action",
]
