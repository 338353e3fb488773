"""Flow writes: the only code that creates or changes flows and runs.

``flows``: definitions (create, update, enable/disable, delete) and test-runs.
``runs``: runs started by webhook events, replay, retention.
``execution``: executing a run's steps (the ``flows`` queue).
"""

from flows.services.execution import ExecuteOutcome, flow_run_execute, flow_runs_execute
from flows.services.flows import (
    flow_create,
    flow_delete,
    flow_set_enabled,
    flow_signing_secret,
    flow_test_run,
    flow_update,
)
from flows.services.runs import (
    ReplayError,
    flow_run_replay,
    flow_runs_for_event,
    flow_runs_purge,
    flow_runs_requeue_stalled,
)

__all__ = [
    "ExecuteOutcome", "ReplayError", "flow_create", "flow_delete", "flow_run_execute", "flow_run_replay",
    "flow_runs_execute",
    "flow_runs_for_event", "flow_runs_purge", "flow_runs_requeue_stalled", "flow_set_enabled",
    "flow_signing_secret", "flow_test_run", "flow_update",
]
