"""Fault tests (issue 9): real gunicorn and Celery processes while a dependency fails.

- test_redis_outage: Redis stopped during a webhook load and started again (empty).
- test_postgres_restart: PostgreSQL stopped and started under load; /readyz meanwhile.
- A worker killed (SIGKILL) during a flow run is covered by the flows app's own test,
  flows/tests/test_worker_e2e.py::test_kill_9_mid_run_then_redelivery_does_not_duplicate_steps
  (no step that succeeded is sent twice), so it is not repeated here.

Faults are injected only into private redis-server / PostgreSQL instances (procs.py), never
into the machine's shared servers.
"""
