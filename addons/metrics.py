"""The platform's own Prometheus metrics, defined once and imported where they are counted.

With several processes (gunicorn workers, Celery worker children) set ``PROMETHEUS_MULTIPROC_DIR``
to a shared, emptied-at-start folder: prometheus_client then aggregates every process's samples
when ``/metrics`` is scraped (see config/metrics.py). Labels are bounded sets (variant, event
type, status, reason) - never workspace ids, which would explode cardinality.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

WEBHOOKS_RECEIVED = Counter(
    "platform_webhooks_total", "Webhook requests by outcome", ["variant", "event", "status"]
)
TOKEN_REJECTIONS = Counter(
    "platform_token_rejections_total", "Clockify token verification failures by reason", ["reason"]
)
WEBHOOK_QUEUE_LAG = Histogram(
    "platform_webhook_queue_lag_seconds", "Time from webhook acceptance to processing start",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
FLOW_RUNS = Counter("platform_flow_runs_total", "Flow runs by final status", ["status"])
FLOW_STEP_SECONDS = Histogram(
    "platform_flow_step_seconds", "Flow step duration", ["type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
CLOCKIFY_CALLS = Counter("platform_clockify_calls_total", "Clockify API calls by HTTP status", ["status"])
RATE_LIMIT_WAIT_SECONDS = Histogram(
    "platform_rate_limiter_wait_seconds", "Time spent waiting for the per-workspace Clockify token bucket",
    buckets=(0, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BOOTSTRAP_ITEMS = Counter("platform_bootstrap_items_total", "Entities fetched by bootstrap", ["entity_type"])
BOOTSTRAP_RUNS = Gauge(
    "platform_bootstrap_runs", "Bootstrap runs by state", ["state"], multiprocess_mode="livesum"
)
