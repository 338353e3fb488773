"""Request and response shapes of the explorer JSON API."""

from __future__ import annotations

from rest_framework import serializers

from explorer.models import ExplorerCall


class SearchQuerySerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, max_length=200)
    tag = serializers.CharField(required=False, allow_blank=True, max_length=200)
    method = serializers.ChoiceField(required=False, allow_blank=True,
                                     choices=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS",
                                              "get", "post", "put", "patch", "delete", "head", "options"])


class ExecuteRequestSerializer(serializers.Serializer):
    operation = serializers.CharField(max_length=600, help_text="operationId or 'METHOD /v1/path-template'")
    params = serializers.JSONField(required=False, default=dict, help_text="path parameters")
    query = serializers.JSONField(required=False, default=dict)
    body = serializers.JSONField(required=False, allow_null=True, default=None)
    confirm = serializers.BooleanField(required=False, default=False,
                                       help_text="must be true to run a write operation")


class ExecuteResultSerializer(serializers.Serializer):
    call_id = serializers.IntegerField()
    operation_id = serializers.CharField()
    method = serializers.CharField()
    path = serializers.CharField()
    host = serializers.CharField()
    status = serializers.IntegerField(allow_null=True)
    ok = serializers.BooleanField()
    latency_ms = serializers.FloatField()
    attempts = serializers.IntegerField()
    headers = serializers.DictField(child=serializers.CharField())
    body = serializers.JSONField(allow_null=True)
    body_bytes = serializers.IntegerField()
    body_truncated = serializers.BooleanField()
    error = serializers.CharField(allow_blank=True)


class NewFlowSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    trigger = serializers.JSONField()
    conditions = serializers.JSONField(required=False)
    enabled = serializers.BooleanField(required=False, default=False)


class SaveAsFlowActionSerializer(serializers.Serializer):
    operation = serializers.CharField(max_length=600)
    params = serializers.JSONField(required=False, default=dict)
    query = serializers.JSONField(required=False, default=dict)
    body = serializers.JSONField(required=False, allow_null=True, default=None)
    flow_id = serializers.CharField(required=False, max_length=64, help_text="an existing flow to append to")
    flow = NewFlowSerializer(required=False, help_text="a new flow to create with this action")

    def validate(self, attrs):
        if bool(attrs.get("flow_id")) == bool(attrs.get("flow")):
            raise serializers.ValidationError({"flow": "give either flow_id (existing flow) or flow (a new one)"})
        return attrs


class ExplorerCallSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExplorerCall
        fields = ["id", "user_id", "used_installation_token", "operation_id", "method", "path", "host",
                  "request_summary", "status_code", "latency_ms", "attempts", "response_excerpt", "response_bytes",
                  "error", "created_at"]
