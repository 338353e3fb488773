"""Flow documents and small helpers shared by the flow tests."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

AUTO_TAG_FLOW = {
    "name": "Tag bug work",
    "enabled": True,
    "trigger": {"events": ["NEW_TIME_ENTRY"]},
    "conditions": {"mode": "all", "rules": [{"path": "$.description", "op": "contains", "value": "bug"}]},
    "actions": [
        {"type": "clockify", "operation": "createNewTag", "body": {"name": "bug"}},
        {
            "type": "clockify",
            "operation": "PUT /v1/workspaces/{workspaceId}/time-entries/{id}",
            "params": {"id": "{{event.id}}"},
            "body": {
                "start": "{{event.timeInterval.start}}",
                "end": "{{event.timeInterval.end}}",
                "description": "{{event.description}}",
                "projectId": "{{event.projectId}}",
                "tagIds": ["{{steps[0].response.id}}"],
            },
        },
    ],
}


def flow_doc(**overrides: Any) -> dict[str, Any]:
    doc = copy.deepcopy(AUTO_TAG_FLOW)
    doc.update(overrides)
    return doc


def http_flow(url: str, **action: Any) -> dict[str, Any]:
    return flow_doc(name="Notify", conditions={"mode": "all", "rules": []},
                    actions=[{"type": "http", "method": "POST", "url": url,
                              "body": {"entry": "{{event.id}}", "ws": "{{installation.workspaceId}}"}, **action}])


@dataclass
class Api:
    """Calls the flows API as one Clockify user of one installation."""

    client: Any
    side: Any
    role: str = "OWNER"

    @property
    def prefix(self) -> str:
        return f"/{self.side.variant_slug}/api/v1"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.side.user_token(self.role)}"}

    def call(self, method: str, path: str, body: Any = None):
        kwargs: dict[str, Any] = {"headers": self.headers()}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        return getattr(self.client, method.lower())(self.prefix + path, **kwargs)

    def get(self, path: str):
        return self.call("GET", path)

    def post(self, path: str, body: Any = None):
        return self.call("POST", path, body if body is not None else {})

    def put(self, path: str, body: Any):
        return self.call("PUT", path, body)

    def patch(self, path: str, body: Any):
        return self.call("PATCH", path, body)

    def delete(self, path: str):
        return self.call("DELETE", path)

    def as_role(self, role: str) -> "Api":
        return Api(self.client, self.side, role)


def existing_entry(standin, workspace_id: str, description: str) -> dict[str, Any]:
    """A time entry the stand-in knows, shaped as a NEW_TIME_ENTRY webhook body."""
    entries = standin.workspace(workspace_id).entities["time-entries"]
    entry = copy.deepcopy(next(e for e in entries.values() if e["timeInterval"].get("end")))
    entry["description"] = description
    return entry


_event_ids = iter(range(10_000, 1_000_000))


def installation_of(api):
    from installations.models import Installation

    return Installation.objects.get(variant=api.side.variant_slug, workspace_id=api.side.workspace_id)


def event(api, payload, event_type="NEW_TIME_ENTRY", event_id=None):
    """What the webhooks worker hands to processors (webhooks.models.WebhookEvent's interface)."""
    return SimpleNamespace(pk=event_id or next(_event_ids), installation=installation_of(api), event_type=event_type,
                           payload=payload, source="clockify", custom_source=None)
