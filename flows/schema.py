"""OpenAPI description of the iframe user-token authentication the JSON API uses.

Registered on import (from ``FlowsConfig.ready``); it documents every ``/api/v1`` view that uses
``IframeTokenAuthentication``, not only the flow views.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class IframeTokenScheme(OpenApiAuthenticationExtension):
    target_class = "addons.iframe_auth.IframeTokenAuthentication"
    name = "ClockifyUserToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "The Clockify user token the iframe page received as ?auth_token= "
                           "(RS256, 30 minutes; workspaceRole OWNER/ADMIN for changes).",
        }
