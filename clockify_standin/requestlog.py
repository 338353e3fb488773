"""The stand-in's request log: what was called, how often, and at what peak rate. Thread-safe."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RequestRecord:
    ts: float  # time.monotonic() when the request arrived (rates are measured on it)
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    workspace_id: str | None = None
    status: int = 0
    wall_ts: float = 0.0  # time.time(), for humans


class RequestLog:
    def __init__(self, max_records: int = 1_000_000) -> None:
        # Bounded so a long-running demo or bench stand-in does not grow without limit.
        self._max = max_records
        self._records: deque[RequestRecord] = deque(maxlen=max_records)
        self._lock = threading.Lock()

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def reset(self) -> None:
        with self._lock:
            self._records = deque(maxlen=self._max)

    def calls(self, method: str | None = None, path_contains: str | None = None,
              workspace_id: str | None = None, status: int | None = None) -> list[RequestRecord]:
        with self._lock:
            records = list(self._records)
        return [
            r for r in records
            if (method is None or r.method == method.upper())
            and (path_contains is None or path_contains in r.path)
            and (workspace_id is None or r.workspace_id == workspace_id)
            and (status is None or r.status == status)
        ]

    def since(self, position: int) -> tuple[list[RequestRecord], int]:
        """Records added after the first ``position`` ones, and the new position (for pollers that
        read the log as it grows instead of copying all of it each time)."""
        with self._lock:
            total = len(self._records)
            return list(itertools.islice(self._records, min(position, total), total)), total

    def count(self, method: str | None = None, path_contains: str | None = None,
              workspace_id: str | None = None, status: int | None = None) -> int:
        return len(self.calls(method=method, path_contains=path_contains, workspace_id=workspace_id, status=status))

    def peak_per_second(self, workspace_id: str | None = None, *, accepted_only: bool = False,
                        window_seconds: float = 1.0) -> int:
        """Most requests seen in any ``window_seconds`` sliding window (all statuses unless
        ``accepted_only``: what a client SENT is what a rate limit is about)."""
        times = sorted(
            r.ts for r in self.calls(workspace_id=workspace_id)
            if not accepted_only or r.status != 429
        )
        window: deque[float] = deque()
        peak = 0
        for t in times:
            window.append(t)
            while window and window[0] <= t - window_seconds:
                window.popleft()
            peak = max(peak, len(window))
        return peak

    def summary(self) -> dict[str, Any]:
        records = self.calls()
        by_status: dict[int, int] = {}
        for r in records:
            by_status[r.status] = by_status.get(r.status, 0) + 1
        return {"total": len(records), "by_status": by_status}

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)
