"""Explorer errors: each carries a stable code, an HTTP status and, for bad input, the fields."""

from __future__ import annotations

from typing import Any


class ExplorerError(Exception):
    status = 400
    code = "explorer_error"

    def __init__(self, message: str, *, errors: dict[str, str] | None = None, code: str | None = None,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        if code:
            self.code = code
        if status:
            self.status = status

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"error": self.code, "detail": self.message}
        if self.errors:
            data["errors"] = self.errors
        return data


class OperationNotFound(ExplorerError):
    status = 404
    code = "unknown_operation"


class ParameterInvalid(ExplorerError):
    """Input that does not fit the operation; ``errors`` maps "query.page" etc. to a reason."""

    status = 400
    code = "invalid_parameters"

    def __init__(self, errors: dict[str, str]) -> None:
        names = ", ".join(sorted(errors))
        super().__init__(f"invalid parameters: {names}", errors=errors)


class NotAllowed(ExplorerError):
    """Plan or role forbids the operation."""

    status = 403
    code = "forbidden"


class ConfirmationRequired(ExplorerError):
    status = 400
    code = "confirmation_required"


class InstallationUnavailable(ExplorerError):
    """The installation cannot call Clockify (inactive, or no URL for the operation's host)."""

    status = 409
    code = "installation_unavailable"
