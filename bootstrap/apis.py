"""Bootstrap JSON API (``/<variant>/api/v1/bootstrap``), authenticated by the iframe user token.

GET: the latest run's progress per endpoint and the cached entity counts. POST (workspace
OWNER/ADMIN): resume a failed run or start one (``{"fresh": true}`` starts over).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from addons.iframe_auth import IframeAPIMixin, IsWorkspaceAdmin
from addons.variants import Feature
from bootstrap import selectors
from bootstrap.services import bootstrap_start


class TriggerSerializer(serializers.Serializer):
    fresh = serializers.BooleanField(default=False, help_text="Start over instead of resuming a failed run.")


_STATUS = inline_serializer("BootstrapStatus", {
    "run": serializers.DictField(allow_null=True),
    "endpoints": serializers.ListField(child=serializers.DictField()),
    "totals": serializers.DictField(),
    "counts": serializers.DictField(child=serializers.IntegerField()),
})
_ERROR = inline_serializer("BootstrapError", {"error": serializers.CharField(), "detail": serializers.CharField()})


class BootstrapAPI(IframeAPIMixin, APIView):
    def get_permissions(self):
        if self.request.method == "POST":
            return [permission() for permission in (*self.permission_classes, IsWorkspaceAdmin)]
        return super().get_permissions()

    def _unavailable(self) -> Response | None:
        if not self.installation.variant_spec.allows(Feature.BOOTSTRAP):
            return Response({"error": "bootstrap_unavailable", "detail": "this add-on has no bootstrap"},
                            status=status.HTTP_404_NOT_FOUND)
        return None

    def _status(self) -> dict:
        data = selectors.bootstrap_progress(installation=self.installation)
        data["counts"] = selectors.entity_counts(installation=self.installation)
        return data

    @extend_schema(summary="Bootstrap progress and cached entity counts", responses={200: _STATUS, 404: _ERROR})
    def get(self, request, variant):
        return self._unavailable() or Response(self._status())

    @extend_schema(summary="Start or resume the bootstrap (workspace admins)", request=TriggerSerializer,
                   responses={202: _STATUS, 400: _ERROR, 403: _ERROR, 404: _ERROR, 409: _ERROR})
    def post(self, request, variant):
        unavailable = self._unavailable()
        if unavailable is not None:
            return unavailable
        body = TriggerSerializer(data=request.data if isinstance(request.data, dict) else {"fresh": "invalid"})
        if not body.is_valid():
            return Response({"error": "bad_request", "detail": "fresh must be a boolean"},
                            status=status.HTTP_400_BAD_REQUEST)
        run = bootstrap_start(installation=self.installation, trigger="api", fresh=body.validated_data["fresh"])
        if run is None:
            return Response({"error": "installation_inactive", "detail": "the add-on is not active on this workspace"},
                            status=status.HTTP_409_CONFLICT)
        return Response(self._status(), status=status.HTTP_202_ACCEPTED)
