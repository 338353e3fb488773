"""The flows JSON API (``/<variant>/api/v1/flows...`` and ``/runs...``), behind the iframe user token.

Thin: authenticate (Bearer user token), scope every lookup to the token's installation (another
workspace's ids are simply not found: 404), call one selector or service, shape the answer.
Reading flows needs any workspace user; everything else (changes, test-runs, run history with
event payloads, replay) needs workspace OWNER or ADMIN.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from addons.iframe_auth import IframeAPIMixin, IsIframeUser, IsWorkspaceAdmin
from flows import selectors, services
from flows.definition import FlowValidationError, validate_flow
from flows.models import Flow, FlowRun, RunStatus
from flows.serializers import (
    FlowInputSerializer,
    FlowRunDetailSerializer,
    FlowRunSerializer,
    FlowSecretSerializer,
    FlowSerializer,
    ReplayInputSerializer,
    TestRunInputSerializer,
    TestRunResultSerializer,
)


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def _validation_error(exc: FlowValidationError) -> ValidationError:
    return ValidationError({field: [message] for field, message in exc.errors.items()})


def _body(request) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise ValidationError({"non_field_errors": ["expected a JSON object"]})
    return request.data


class FlowsAPIView(IframeAPIMixin, APIView):
    admin_methods = frozenset({"POST", "PUT", "PATCH", "DELETE"})

    def get_permissions(self):
        if self.request.method in self.admin_methods:
            return [IsIframeUser(), IsWorkspaceAdmin()]
        return [IsIframeUser()]

    def get_flow(self, flow_id: str) -> Flow:
        flow = selectors.flow_get(installation=self.installation, public_id=flow_id)
        if flow is None:
            raise NotFound("no such flow")
        return flow

    def serializer_context(self) -> dict[str, Any]:
        # Readers who are not admins do not see credentials written into http actions.
        return {"redact": not self.iframe_user.is_admin}

    @property
    def user_id(self) -> str:
        return self.iframe_user.user_id


class AdminOnlyAPIView(FlowsAPIView):
    admin_methods = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


class FlowListAPI(FlowsAPIView):
    @extend_schema(summary="List flows", responses=FlowSerializer(many=True))
    def get(self, request, variant):
        page = Pagination()
        flows = page.paginate_queryset(selectors.flow_list(installation=self.installation), request, view=self)
        return page.get_paginated_response(FlowSerializer(flows, many=True, context=self.serializer_context()).data)

    @extend_schema(summary="Create a flow", request=FlowInputSerializer, responses={201: FlowSerializer})
    def post(self, request, variant):
        try:
            flow = services.flow_create(installation=self.installation, data=_body(request), user_id=self.user_id)
        except FlowValidationError as exc:
            raise _validation_error(exc) from None
        return Response(FlowSerializer(flow).data, status=status.HTTP_201_CREATED)


class FlowDetailAPI(FlowsAPIView):
    @extend_schema(summary="A flow", responses=FlowSerializer)
    def get(self, request, variant, flow_id):
        return Response(FlowSerializer(self.get_flow(flow_id), context=self.serializer_context()).data)

    def _update(self, request, flow_id: str, partial: bool) -> Response:
        flow = self.get_flow(flow_id)
        try:
            flow = services.flow_update(flow=flow, data=_body(request), partial=partial, user_id=self.user_id)
        except FlowValidationError as exc:
            raise _validation_error(exc) from None
        return Response(FlowSerializer(flow).data)

    @extend_schema(summary="Replace a flow (bumps its version)", request=FlowInputSerializer, responses=FlowSerializer)
    def put(self, request, variant, flow_id):
        return self._update(request, flow_id, partial=False)

    @extend_schema(summary="Change some fields of a flow (bumps its version)", request=FlowInputSerializer,
                   responses=FlowSerializer)
    def patch(self, request, variant, flow_id):
        return self._update(request, flow_id, partial=True)

    @extend_schema(summary="Delete a flow and its runs", responses={204: None})
    def delete(self, request, variant, flow_id):
        services.flow_delete(flow=self.get_flow(flow_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class FlowEnableAPI(FlowsAPIView):
    enabled = True

    @extend_schema(summary="Enable or disable a flow", request=None, responses=FlowSerializer)
    def post(self, request, variant, flow_id):
        flow = services.flow_set_enabled(flow=self.get_flow(flow_id), enabled=self.enabled, user_id=self.user_id)
        return Response(FlowSerializer(flow).data)


class FlowDisableAPI(FlowEnableAPI):
    enabled = False


class FlowSecretAPI(AdminOnlyAPIView):
    @extend_schema(summary="The flow's Standard Webhooks signing secret", responses=FlowSecretSerializer)
    def get(self, request, variant, flow_id):
        return Response({"signing_secret": services.flow_signing_secret(flow=self.get_flow(flow_id))})


def _test_input(request) -> tuple[Any, str | None]:
    body = _body(request)
    event = body.get("event")
    if not isinstance(event, (dict, list)):
        raise ValidationError({"event": ["required: a sample event payload (JSON object)"]})
    event_type = body.get("event_type")
    if event_type is not None and not isinstance(event_type, str):
        raise ValidationError({"event_type": ["must be a string"]})
    return event, event_type


class FlowTestRunAPI(FlowsAPIView):
    @extend_schema(summary="Test-run a saved flow on a sample event (sends nothing)", request=TestRunInputSerializer,
                   responses=TestRunResultSerializer)
    def post(self, request, variant, flow_id):
        flow = self.get_flow(flow_id)
        event, event_type = _test_input(request)
        result = services.flow_test_run(installation=self.installation, definition=flow.definition(), event=event,
                                        event_type=event_type)
        return Response(result)


class DraftTestRunAPI(FlowsAPIView):
    @extend_schema(summary="Test-run an unsaved flow on a sample event (sends nothing)",
                   operation_id="flows_draft_test_run", request=TestRunInputSerializer, responses=TestRunResultSerializer)
    def post(self, request, variant):
        event, event_type = _test_input(request)
        draft = _body(request).get("flow")
        try:
            fields = validate_flow(draft, installation=self.installation)
        except FlowValidationError as exc:
            raise ValidationError({f"flow.{k}": [v] for k, v in exc.errors.items()}) from None
        definition = {k: fields[k] for k in ("trigger", "conditions", "actions")}
        return Response(services.flow_test_run(installation=self.installation, definition=definition, event=event,
                                               event_type=event_type))


_RUN_FILTERS = [
    OpenApiParameter("status", str, enum=[s.value for s in RunStatus]),
    OpenApiParameter("page", int), OpenApiParameter("page_size", int),
]


def _run_page(view: APIView, request, runs) -> Response:
    page = Pagination()
    items = page.paginate_queryset(runs, request, view=view)
    return page.get_paginated_response(FlowRunSerializer(items, many=True).data)


def _status_filter(request) -> str | None:
    value = request.query_params.get("status")
    if value and value not in RunStatus.values:
        raise ValidationError({"status": [f"one of {', '.join(RunStatus.values)}"]})
    return value or None


class FlowRunsAPI(AdminOnlyAPIView):
    @extend_schema(summary="Runs of a flow, newest first", parameters=_RUN_FILTERS,
                   responses=FlowRunSerializer(many=True))
    def get(self, request, variant, flow_id):
        flow = self.get_flow(flow_id)
        runs = selectors.run_list(installation=self.installation, flow=flow, status=_status_filter(request))
        return _run_page(self, request, runs)


class RunListAPI(AdminOnlyAPIView):
    @extend_schema(summary="Runs of every flow, newest first",
                   parameters=[OpenApiParameter("flow", str), *_RUN_FILTERS], responses=FlowRunSerializer(many=True))
    def get(self, request, variant):
        flow = None
        if request.query_params.get("flow"):
            flow = self.get_flow(request.query_params["flow"])
        runs = selectors.run_list(installation=self.installation, flow=flow, status=_status_filter(request))
        return _run_page(self, request, runs)


class RunDetailAPI(AdminOnlyAPIView):
    def get_run(self, run_id: str) -> FlowRun:
        run = selectors.run_get(installation=self.installation, public_id=run_id)
        if run is None:
            raise NotFound("no such run")
        return run

    @extend_schema(summary="A run with its condition results and per-step results", responses=FlowRunDetailSerializer)
    def get(self, request, variant, run_id):
        return Response(FlowRunDetailSerializer(self.get_run(run_id)).data)


class RunReplayAPI(RunDetailAPI):
    @extend_schema(summary="Replay a run from the failed step or from the start", request=ReplayInputSerializer,
                   responses={202: FlowRunSerializer})
    def post(self, request, variant, run_id):
        run = self.get_run(run_id)
        body = _body(request)
        start = body.get("from", body.get("start", "failed"))
        if start not in ("failed", "start"):
            raise ValidationError({"from": ["must be 'failed' (from the failed step) or 'start'"]})
        try:
            replay = services.flow_run_replay(run=run, start=start)
        except services.ReplayError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(FlowRunSerializer(replay).data, status=status.HTTP_202_ACCEPTED)
