"""Explorer reads, always scoped by installation."""

from __future__ import annotations

from django.db.models import QuerySet

from explorer.models import ExplorerCall
from installations.models import Installation

MAX_PAGE = 200


def explorer_calls_list(*, installation: Installation, user_id: str | None = None, operation_id: str | None = None,
                        before_id: int | None = None, limit: int = 50) -> QuerySet[ExplorerCall]:
    """Newest first; ``user_id`` narrows to one user's calls (what a non-admin may see)."""
    qs = ExplorerCall.objects.filter(installation=installation)
    if user_id is not None:
        qs = qs.filter(user_id=user_id)
    if operation_id:
        qs = qs.filter(operation_id=operation_id)
    if before_id:
        qs = qs.filter(id__lt=before_id)
    return qs.order_by("-id")[: max(1, min(limit, MAX_PAGE))]


def explorer_call_get(*, installation: Installation, call_id: int) -> ExplorerCall | None:
    return ExplorerCall.objects.filter(installation=installation, pk=call_id).first()
