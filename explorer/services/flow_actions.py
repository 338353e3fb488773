"""Save as flow action: a filled-in explorer call becomes a ``clockify`` action of a flow.

The values may hold templates (``{{event.id}}``), so they are not type-checked here: flows
validate the action when the flow is saved, and the engine renders it at run time.
"""

from __future__ import annotations

from typing import Any

from addons.iframe_auth import IframeUser
from addons.variants import Feature
from explorer.catalog import get_catalog
from explorer.errors import NotAllowed, OperationNotFound, ParameterInvalid
from installations.models import Installation


def flow_action_build(*, installation: Installation, operation_id: str, params: Any = None, query: Any = None,
                      body: Any = None) -> dict[str, Any]:
    """The action dict (issue 6 shape), after checking the operation and the parameter names."""
    operation = get_catalog(installation).resolve(operation_id)
    if operation is None:
        raise OperationNotFound(f"{operation_id!r} is not an operation of the catalogue")
    errors: dict[str, str] = {}
    params = {} if params is None else params
    query = {} if query is None else query
    if not isinstance(params, dict):
        errors["params"] = "expected an object of path parameters"
        params = {}
    if not isinstance(query, dict):
        errors["query"] = "expected an object of query parameters"
        query = {}
    for name in params:
        if name not in operation.path_param_names:
            errors[f"path.{name}"] = "not a path parameter of this operation"
    for name in query:
        if operation.parameter(str(name), "query") is None:
            errors[f"query.{name}"] = "not a query parameter of this operation"
    if body is not None and operation.request_body_schema is None and operation.request_content_type is None:
        errors["body"] = "this operation takes no body"
    if errors:
        raise ParameterInvalid(errors)
    action: dict[str, Any] = {"type": "clockify", "operation": operation.operation_id, "params": dict(params),
                              "query": dict(query)}
    if body is not None:
        action["body"] = body
    return action


def operation_save_as_flow_action(*, installation: Installation, user: IframeUser, operation_id: str,
                                  params: Any = None, query: Any = None, body: Any = None,
                                  flow: Any = None, new_flow: dict[str, Any] | None = None) -> Any:
    """Append the call to ``flow`` (a ``flows.models.Flow`` of this installation), or create a flow
    from ``new_flow`` (``name``, ``trigger``, optional ``conditions``; created disabled unless it
    says ``enabled``). Flows' own validation errors propagate (they name the field)."""
    from flows.services import flow_create, flow_update

    variant = installation.variant_spec
    if not (variant.allows(Feature.FLOWS) and variant.allows(Feature.FLOW_CLOCKIFY_ACTIONS)):
        raise NotAllowed("flows with Clockify actions are not part of this plan", code="plan_forbids_flows")
    if not user.is_admin:
        raise NotAllowed("managing flows needs a workspace OWNER or ADMIN", code="admin_required")
    action = flow_action_build(installation=installation, operation_id=operation_id, params=params, query=query,
                               body=body)
    if flow is not None:
        if flow.installation_id != installation.pk:  # callers load it scoped; this is the backstop
            raise OperationNotFound("no such flow", code="unknown_flow")
        return flow_update(flow=flow, data={"actions": [*flow.actions, action]}, partial=True,
                           user_id=user.user_id)
    new_flow = new_flow or {}
    errors = {}
    if not isinstance(new_flow.get("name"), str) or not new_flow["name"].strip():
        errors["flow.name"] = "required for a new flow"
    if not isinstance(new_flow.get("trigger"), dict):
        errors["flow.trigger"] = "required for a new flow, e.g. {\"events\": [\"NEW_TIME_ENTRY\"]}"
    if errors:
        raise ParameterInvalid(errors)
    data = {
        "name": new_flow["name"].strip(),
        "enabled": bool(new_flow.get("enabled", False)),  # a saved call should not start firing unseen
        "trigger": new_flow["trigger"],
        "conditions": new_flow.get("conditions") or {"mode": "all", "rules": []},
        "actions": [action],
    }
    return flow_create(installation=installation, data=data, user_id=user.user_id)
