"""The periodic catalogue sync running in a real Celery worker process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from explorer import tasks
from explorer.catalog import get_catalog
from explorer.models import OpenAPIDocument

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not settings.REDIS_URL or connection.vendor != "postgresql",
                       reason="needs PostgreSQL and Redis (a worker process shares the test database)"),
]


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_sync_task_in_a_worker_updates_every_process(tmp_path):
    doc = tmp_path / "doc.json"
    doc.write_text(json.dumps({"openapi": "3.0.1", "info": {"title": "From the worker", "version": "1"},
                               "paths": {"/v1/user": {"get": {"operationId": "getLoggedUser", "responses": {}}}}}))
    env = {**os.environ, "DATABASE_URL": _database_url(), "REDIS_URL": settings.REDIS_URL,
           "CLOCKIFY_OPENAPI_SOURCE": str(doc), "LOG_LEVEL": "WARNING"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default", "--pool", "solo",
         "--without-heartbeat", "--without-gossip", "--without-mingle", "-n", f"explorer-test-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        tasks.sync_openapi.delay()
        deadline = time.monotonic() + 60
        while not OpenAPIDocument.objects.exists() and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.2)
        assert OpenAPIDocument.objects.exists(), worker.stderr.read().decode()[-2000:] if worker.poll() else ""
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:  # never leave a worker behind
            worker.kill()
            worker.wait(timeout=10)
    assert get_catalog().title == "From the worker" and len(get_catalog()) == 1
