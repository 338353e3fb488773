"""Shapes of the flows API: what it returns, and the documented request bodies.

Flow documents are validated by ``flows.definition.validate_flow`` (errors name the field);
these serializers shape output and describe input for the OpenAPI schema.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from flows.models import Flow, FlowRun, FlowRunStep
from flows.redaction import actions_for


class FlowSecretNameSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="Used as {{secrets.NAME}} in http actions; the value is never shown")
    updated_at = serializers.DateTimeField()


class FlowSerializer(serializers.ModelSerializer):
    """A flow. With ``context={"redact": True}`` (readers who are not admins) http actions show
    where they go, not their credentials (``flows.redaction.action_for_reader``). Secrets are
    listed by name only, for everyone."""

    id = serializers.CharField(source="public_id", read_only=True)
    secrets = serializers.SerializerMethodField()

    class Meta:
        model = Flow
        fields = ("id", "name", "enabled", "trigger", "conditions", "actions", "secrets", "version", "created_by",
                  "updated_by", "created_at", "updated_at")
        read_only_fields = fields

    @extend_schema_field(FlowSecretNameSerializer(many=True))
    def get_secrets(self, flow: Flow) -> list[dict[str, Any]]:
        return [{"name": s.name, "updated_at": s.updated_at} for s in flow.secrets.all()]

    def to_representation(self, instance: Flow) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["actions"] = actions_for(data["actions"], admin=not self.context.get("redact"))
        return data


class FlowInputSerializer(serializers.Serializer):
    """The flow JSON shape; see the README for triggers, operators, actions and templates."""

    name = serializers.CharField(max_length=200)
    enabled = serializers.BooleanField(default=True)
    trigger = serializers.JSONField(help_text='{"events": ["NEW_TIME_ENTRY"]} or {"custom_source": "<id>"}')
    conditions = serializers.JSONField(required=False, help_text='{"mode": "all"|"any", "rules": '
                                                                 '[{"path": "$.projectId", "op": "==", "value": "..."}]}')
    actions = serializers.JSONField(help_text='[{"type": "clockify", "operation": "createNewTag", "params": {}, '
                                              '"query": {}, "body": {}}, {"type": "http", "method": "POST", '
                                              '"url": "https://...", "headers": {"Authorization": '
                                              '"Bearer {{secrets.API_TOKEN}}"}, "body": {}, "sign": true}]')
    secrets = serializers.DictField(
        child=serializers.CharField(allow_null=True), required=False, write_only=True,
        help_text='Write-only credentials for http actions ({{secrets.NAME}}): {"NAME": "value"} sets or replaces, '
                  '{"NAME": null} removes; names not given are kept. Values are stored encrypted and never shown.')


class FlowSecretSerializer(serializers.Serializer):
    signing_secret = serializers.CharField(help_text="Standard Webhooks secret (whsec_...) for signed http actions")


class TestRunInputSerializer(serializers.Serializer):
    event = serializers.JSONField(help_text="A sample event payload")
    event_type = serializers.CharField(required=False, help_text="e.g. NEW_TIME_ENTRY; checks the trigger too")
    flow = FlowInputSerializer(required=False, help_text="An unsaved flow (POST /flows/test-run only)")


class TestRunResultSerializer(serializers.Serializer):
    trigger_matched = serializers.BooleanField(allow_null=True)
    conditions = serializers.JSONField()
    would_run = serializers.BooleanField()
    requests = serializers.JSONField(help_text="Per step: the exact request, or the error that would stop it")
    sent = serializers.BooleanField(help_text="Always false: a test-run sends nothing")


class FlowRunStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = FlowRunStep
        fields = ("index", "action_type", "status", "request", "status_code", "response", "response_truncated",
                  "duration_ms", "attempts", "error", "copied_from_run", "started_at", "finished_at")
        read_only_fields = fields


class FlowRunSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    flow = serializers.CharField(source="flow.public_id", read_only=True)
    replay_of = serializers.SerializerMethodField()

    class Meta:
        model = FlowRun
        fields = ("id", "flow", "flow_version", "status", "event_type", "event_id", "error", "replay_of",
                  "replay_from_step", "created_at", "started_at", "finished_at")
        read_only_fields = fields

    def get_replay_of(self, run: FlowRun) -> str | None:
        return run.replay_of.public_id if run.replay_of_id and run.replay_of else None


class FlowRunDetailSerializer(FlowRunSerializer):
    steps = FlowRunStepSerializer(many=True, read_only=True)

    class Meta(FlowRunSerializer.Meta):
        fields = FlowRunSerializer.Meta.fields + ("conditions_result", "event_payload", "definition", "steps")
        read_only_fields = fields


class ReplayInputSerializer(serializers.Serializer):
    # "from" is a Python keyword: the field is declared under another name and renamed.
    start = serializers.ChoiceField(choices=["failed", "start"], default="failed",
                                    help_text="failed: from the step that failed; start: from the first step")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("start")
        return fields
