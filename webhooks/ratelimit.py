"""Per-installation ingestion rate limit, so one tenant cannot starve the others.

With Redis: a token bucket in one Lua call (one round trip; Redis' own clock, so every web
process shares one bucket). A process leases a few tokens per call (at most burst/20, capped at
10, valid for one second) and spends them locally, so the hot path meets Redis about once every
ten requests instead of on each; the shared bucket still bounds the total, and a lease that expires
unspent only makes the limit slightly stricter. Small limits lease one token at a time (exact). Embedded mode (no Redis): a fixed-window counter in Django's
cache (``burst`` requests per ``burst / rate`` seconds). If the limiter's store fails the request is let through: the database, not the limiter,
is what makes an event durable, and dropping a genuine webhook is worse than admitting it.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger("webhooks.ratelimit")

_TOKEN_BUCKET = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local want = tonumber(ARGV[3])
local granted = math.min(want, math.floor(tokens))
local wait_ms = 0
if granted >= 1 then
  tokens = tokens - granted
else
  granted = 0
  wait_ms = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {granted, wait_ms}
"""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after_seconds: int = 0


LEASE_SECONDS = 1.0
_leases: dict[int, list] = {}  # installation id -> [expires (monotonic), tokens left]
_lease_lock = threading.Lock()


@lru_cache(maxsize=4)
def _script(redis_url: str):
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return client.register_script(_TOKEN_BUCKET)


def check(installation_id: int) -> Decision:
    """Take one token from the installation's bucket."""
    rate = settings.WEBHOOK_INGEST_RATE_PER_SECOND
    burst = max(settings.WEBHOOK_INGEST_BURST, 1)
    if rate <= 0:
        return Decision(True)
    try:
        if settings.REDIS_URL:
            return _bucket_check(installation_id, rate, burst)
        return _window_check(installation_id, rate, burst)
    except Exception as exc:  # fail open, see the module docstring
        logger.warning("webhook_rate_limiter_unavailable", extra={"error": type(exc).__name__})
        return Decision(True)


def _bucket_check(installation_id: int, rate: int, burst: int) -> Decision:
    now = time.monotonic()
    with _lease_lock:
        lease = _leases.get(installation_id)
        if lease is not None and lease[0] > now and lease[1] > 0:
            lease[1] -= 1
            return Decision(True)
    want = max(1, min(10, burst // 20))
    granted, wait_ms = _script(settings.REDIS_URL)(keys=[f"clk:whrl:{installation_id}"], args=[rate, burst, want])
    granted = int(granted)
    if granted < 1:
        return Decision(False, max(1, math.ceil(int(wait_ms) / 1000)))
    with _lease_lock:
        _leases[installation_id] = [now + LEASE_SECONDS, granted - 1]
    return Decision(True)


def reset_leases() -> None:
    with _lease_lock:
        _leases.clear()


def _window_check(installation_id: int, rate: int, burst: int) -> Decision:
    # A fixed window long enough to hold the burst at the sustained rate: ``burst`` requests per
    # ``burst / rate`` seconds (at least one), which admits the burst and averages to the rate.
    window = max(1, math.ceil(burst / rate))
    now = time.time()
    key = f"whrl:{installation_id}:{window}:{int(now // window)}"
    cache.add(key, 0, timeout=window + 5)
    if cache.incr(key) <= burst:
        return Decision(True)
    return Decision(False, max(1, math.ceil(window - now % window)))
