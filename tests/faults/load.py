"""Shared pieces of the fault tests: a webhook load generator and the test database URL."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests
from django.db import connection

from addons.manifest import webhook_path


def child_database_url() -> str:
    """The database pytest-django made for this run, for the child processes."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@dataclass
class WebhookLoad:
    """Threads posting signed, unique NEW_TIME_ENTRY webhooks to a live server until stopped.

    ``results`` keeps (status, body id) per request; a request that got no answer counts as 0.
    """

    base_url: str
    slug: str
    token: str
    workspace_id: str
    threads: int = 3
    pause: float = 0.02  # per thread, between requests: a steady load, not a flood
    event: str = "NEW_TIME_ENTRY"
    results: list[tuple[int, str]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count = field(default_factory=itertools.count)

    def _run(self, n: int) -> None:
        session = requests.Session()
        url = f"{self.base_url}/{self.slug}{webhook_path(self.event)}"
        headers = {"clockify-signature": self.token, "clockify-webhook-event-type": self.event,
                   "content-type": "application/json"}
        while not self._stop.is_set():
            body_id = f"fault-{n}-{next(self._ids)}"
            body = json.dumps({"id": body_id, "workspaceId": self.workspace_id, "description": "load"})
            try:
                status = session.post(url, data=body, headers=headers, timeout=20).status_code
            except requests.RequestException:
                status = 0
            with self._lock:
                self.results.append((status, body_id))
            time.sleep(self.pause)

    def start(self) -> "WebhookLoad":
        self._threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(self.threads)]
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=30)

    def accepted(self) -> int:
        with self._lock:
            return sum(1 for status, _ in self.results if status == 200)

    def statuses(self) -> Counter:
        with self._lock:
            return Counter(status for status, _ in self.results)

    def accepted_ids(self) -> set[str]:
        with self._lock:
            return {body_id for status, body_id in self.results if status == 200}
