"""The explorer JSON API (``/<variant>/api/v1/explorer/...``), authenticated by the iframe user token.

Thin: parse the request, call a selector or service, shape the answer. Every query is scoped
to the token's installation; operations carry ``allowed`` for this user (plan and role).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions as drf_exceptions
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from addons.iframe_auth import IframeAPIMixin
from addons.variants import Feature
from explorer import selectors, services
from explorer.catalog import Operation, get_catalog
from explorer.errors import ExplorerError, OperationNotFound, ParameterInvalid
from explorer.serializers import (
    ExecuteRequestSerializer, ExecuteResultSerializer, ExplorerCallSerializer, SaveAsFlowActionSerializer,
    SearchQuerySerializer,
)


def _flatten(detail: Any, prefix: str = "") -> dict[str, str]:
    """DRF's nested error detail -> {"field.sub": "first message"}."""
    if isinstance(detail, dict):
        out: dict[str, str] = {}
        for key, value in detail.items():
            name = prefix if key == "non_field_errors" else f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten(value, name or "request"))
        return out
    if isinstance(detail, list) and detail:
        return _flatten(detail[0], prefix)
    return {prefix or "request": str(detail)}


class ExplorerAPIView(IframeAPIMixin, APIView):
    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, ExplorerError):
            return Response(exc.as_dict(), status=exc.status)
        if isinstance(exc, drf_exceptions.ValidationError):  # one error shape for the whole explorer API
            return Response(ParameterInvalid(_flatten(exc.detail)).as_dict(), status=status.HTTP_400_BAD_REQUEST)
        return super().handle_exception(exc)

    def can_run(self, operation: Operation) -> bool:
        """Whether this user may execute ``operation`` (confirmation aside)."""
        variant = self.installation.variant_spec
        if not variant.api_access.allows(operation.method, operation.path):
            return False
        if operation.is_read_only:
            return variant.allows(Feature.EXPLORER_READ) or variant.allows(Feature.EXPLORER_WRITE)
        return variant.allows(Feature.EXPLORER_WRITE) and self.iframe_user.is_admin

    def summary(self, operation: Operation) -> dict[str, Any]:
        data = operation.summary_dict()
        data["allowed"] = self.can_run(operation)
        data["needs_confirmation"] = not operation.is_read_only
        return data


class TagTreeAPI(ExplorerAPIView):
    @extend_schema(operation_id="explorer_tag_tree", summary="Operations grouped by tag",
                   responses={200: inline_serializer("ExplorerTagTree", {
                       "catalog": serializers.DictField(), "groups": serializers.ListField()})})
    def get(self, request, variant):
        catalog = get_catalog(self.installation)
        groups = catalog.tag_tree()
        for group in groups:
            for tag in group["tags"]:
                tag["operations"] = [self.summary(catalog.get(op["operation_id"])) for op in tag["operations"]]
        return Response({"catalog": {"title": catalog.title, "version": catalog.version,
                                     "operations": len(catalog)}, "groups": groups})


class OperationSearchAPI(ExplorerAPIView):
    @extend_schema(operation_id="explorer_search", summary="Search operations", parameters=[SearchQuerySerializer],
                   responses={200: inline_serializer("ExplorerSearch", {"count": serializers.IntegerField(),
                                                                        "results": serializers.ListField()})})
    def get(self, request, variant):
        query = SearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = get_catalog(self.installation).search(
            text=query.validated_data.get("text"), tag=query.validated_data.get("tag"),
            method=query.validated_data.get("method"))
        return Response({"count": len(found), "results": [self.summary(op) for op in found]})


class OperationDetailAPI(ExplorerAPIView):
    @extend_schema(operation_id="explorer_operation_detail", summary="One operation: parameters, body schema, examples",
                   responses={200: inline_serializer("ExplorerOperation", {
                       "operation_id": serializers.CharField(), "method": serializers.CharField(),
                       "path": serializers.CharField(), "host": serializers.CharField(),
                       "parameters": serializers.ListField(), "request_body_schema": serializers.JSONField(),
                       "examples": serializers.DictField(), "allowed": serializers.BooleanField(),
                       "prefilled": serializers.DictField()})})
    def get(self, request, variant, operation_id: str):
        operation = get_catalog(self.installation).resolve(operation_id)
        if operation is None:
            raise OperationNotFound(f"{operation_id!r} is not an operation of the catalogue")
        data = operation.to_dict()
        data.update(allowed=self.can_run(operation), needs_confirmation=not operation.is_read_only,
                    prefilled={"workspaceId": self.installation.workspace_id, "userId": self.iframe_user.user_id})
        return Response(data)


class ExecuteAPI(ExplorerAPIView):
    @extend_schema(operation_id="explorer_execute", summary="Execute one operation", request=ExecuteRequestSerializer,
                   responses={200: ExecuteResultSerializer, 502: ExecuteResultSerializer})
    def post(self, request, variant):
        payload = ExecuteRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        result = services.operation_execute(
            installation=self.installation, user=self.iframe_user, operation_id=data["operation"],
            path_params=data.get("params"), query=data.get("query"), body=data.get("body"),
            confirm=data.get("confirm", False),
        )
        # Clockify's own answer (even a 4xx) is a result; only "no answer at all" is a gateway error.
        return Response(result.as_dict(), status=status.HTTP_200_OK if result.status is not None
                        else status.HTTP_502_BAD_GATEWAY)


class CallListAPI(ExplorerAPIView):
    @extend_schema(operation_id="explorer_calls",
                   summary="The call log (admins: every call of the workspace; others: their own)",
                   parameters=[OpenApiParameter("before", int), OpenApiParameter("limit", int),
                               OpenApiParameter("operation", str)],
                   responses={200: ExplorerCallSerializer(many=True)})
    def get(self, request, variant):
        try:
            limit = int(request.query_params.get("limit", 50))
            before = int(request.query_params["before"]) if request.query_params.get("before") else None
        except ValueError:
            return Response({"error": "invalid_parameters", "detail": "limit and before must be integers"},
                            status=status.HTTP_400_BAD_REQUEST)
        calls = selectors.explorer_calls_list(
            installation=self.installation, user_id=None if self.iframe_user.is_admin else self.iframe_user.user_id,
            operation_id=request.query_params.get("operation") or None, before_id=before, limit=limit,
        )
        return Response({"results": ExplorerCallSerializer(calls, many=True).data})


class SaveAsFlowActionAPI(ExplorerAPIView):
    @extend_schema(operation_id="explorer_save_as_flow_action",
                   summary="Save a filled-in call as an action of a new or existing flow",
                   request=SaveAsFlowActionSerializer,
                   responses={201: inline_serializer("ExplorerSavedAction", {
                       "flow_id": serializers.CharField(), "version": serializers.IntegerField(),
                       "action_index": serializers.IntegerField(), "action": serializers.DictField()})})
    def post(self, request, variant):
        from flows.definition import FlowValidationError
        from flows.selectors import flow_get

        payload = SaveAsFlowActionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        flow = None
        if data.get("flow_id"):
            flow = flow_get(installation=self.installation, public_id=data["flow_id"])
            if flow is None:
                raise OperationNotFound("no such flow in this workspace", code="unknown_flow")
        try:
            saved = services.operation_save_as_flow_action(
                installation=self.installation, user=self.iframe_user, operation_id=data["operation"],
                params=data.get("params"), query=data.get("query"), body=data.get("body"), flow=flow,
                new_flow=data.get("flow"),
            )
        except FlowValidationError as exc:
            return Response({"error": "invalid_flow", "detail": str(exc), "errors": exc.errors},
                            status=status.HTTP_400_BAD_REQUEST)
        return Response({"flow_id": saved.public_id, "version": saved.version,
                         "action_index": len(saved.actions) - 1, "action": saved.actions[-1]},
                        status=status.HTTP_201_CREATED)
