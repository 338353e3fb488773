"""Per-workspace rate limiting shared by every process: a GCRA token bucket.

``acquire(key, rate)`` takes the next send slot for ``key`` when it is due, sleeping until then.
Slots are spaced ``1/rate`` apart (``burst`` lets that many go back to back), so however many web
and worker processes call Clockify for one workspace, together they send at most ``rate``
requests in any second. ``reserve`` books a future slot without sleeping (one round trip).

Backends: Redis (an atomic Lua script, Redis's own clock) when ``REDIS_URL`` is set; otherwise,
for the embedded mode, a state file per key under ``VAR_DIR/ratelimit`` updated under
``flock``, which holds across the processes of one host. If Redis is unreachable the file
backend takes over (logged) rather than letting calls through unlimited.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

logger = logging.getLogger("addons.clockify.ratelimit")

KEY_PREFIX = "clk:rl:"


class RateLimitTimeout(Exception):
    """The next free slot is further away than the caller is willing to wait."""

    def __init__(self, key: str, wait: float) -> None:
        super().__init__(f"rate limit slot for {key!r} is {wait:.2f}s away")
        self.wait = wait


@dataclass(frozen=True)
class Reservation:
    allowed: bool
    wait: float  # seconds from ``now`` until the slot (the slot is not taken when not allowed)
    at: float  # the slot time on the backend's clock


# --- the algorithm (one definition; the Lua script mirrors it) ---------------------------------

def gcra(tat: float, now: float, *, interval: float, tolerance: float, max_wait: float) -> tuple[Reservation, float]:
    """Return the reservation and the new theoretical arrival time (unchanged when refused)."""
    tat = max(tat, now)
    slot = max(now, tat - tolerance)
    wait = slot - now
    if wait > max_wait:
        return Reservation(False, wait, slot), tat
    return Reservation(True, wait, slot), tat + interval


_LUA_RESERVE = """
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local now
if ARGV[4] ~= '' then
  now = tonumber(ARGV[4])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local slot = tat - tolerance
if slot < now then slot = now end
local wait = slot - now
if wait > max_wait then
  return {0, string.format('%.6f', wait), string.format('%.6f', slot)}
end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.6f', new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1000)
return {1, string.format('%.6f', wait), string.format('%.6f', slot)}
"""

_LUA_PENALIZE = """
local seconds = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now + seconds then
  tat = now + seconds
  redis.call('SET', KEYS[1], string.format('%.6f', tat), 'PX', math.ceil(seconds * 1000) + 1000)
end
return string.format('%.6f', tat)
"""


class RedisBucket:
    def __init__(self, url: str) -> None:
        import redis

        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        self._reserve = self._client.register_script(_LUA_RESERVE)
        self._penalize = self._client.register_script(_LUA_PENALIZE)

    def reserve(self, key: str, *, interval: float, tolerance: float, max_wait: float,
                now: float | None = None) -> Reservation:
        allowed, wait, slot = self._reserve(
            keys=[KEY_PREFIX + key],
            args=[f"{interval:.6f}", f"{tolerance:.6f}", f"{max_wait:.6f}", "" if now is None else f"{now:.6f}"],
        )
        return Reservation(bool(int(allowed)), float(wait), float(slot))

    def penalize(self, key: str, seconds: float) -> None:
        self._penalize(keys=[KEY_PREFIX + key], args=[f"{seconds:.6f}"])


class FileBucket:
    """One small state file per key, read-modified-written under an exclusive ``flock``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.folder / hashlib.sha256(key.encode()).hexdigest()[:32]

    def _update(self, key: str, fn):
        fd = os.open(self._path(key), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            raw = os.pread(fd, 64, 0)
            try:
                tat = float(raw.decode() or 0)
            except ValueError:
                tat = 0.0
            result, new_tat = fn(tat, time.time())
            if new_tat != tat:
                data = f"{new_tat:.6f}".encode()
                os.ftruncate(fd, 0)
                os.pwrite(fd, data, 0)
            return result
        finally:
            os.close(fd)  # closing releases the lock

    def reserve(self, key: str, *, interval: float, tolerance: float, max_wait: float,
                now: float | None = None) -> Reservation:
        def step(tat: float, clock: float):
            return gcra(tat, clock if now is None else now, interval=interval, tolerance=tolerance, max_wait=max_wait)

        return self._update(key, step)

    def penalize(self, key: str, seconds: float) -> None:
        self._update(key, lambda tat, clock: (None, max(tat, clock + seconds)))


_lock = threading.Lock()
_backends: dict[tuple[int, str], object] = {}


def _file_backend() -> FileBucket:
    folder = Path(settings.VAR_DIR) / "ratelimit"
    key = (os.getpid(), f"file:{folder}")
    with _lock:
        if key not in _backends:
            _backends[key] = FileBucket(folder)
        return _backends[key]  # type: ignore[return-value]


def backend() -> RedisBucket | FileBucket:
    """The shared backend for this process (rebuilt after a fork: sockets are not shared)."""
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return _file_backend()
    key = (os.getpid(), f"redis:{url}")
    with _lock:
        if key not in _backends:
            _backends[key] = RedisBucket(url)
        return _backends[key]  # type: ignore[return-value]


def _with_fallback(call):
    bucket = backend()
    try:
        return call(bucket)
    except Exception as exc:  # Redis down: limit through the host-wide file bucket instead of not at all
        if isinstance(bucket, FileBucket):
            raise
        logger.warning("ratelimit_redis_unavailable", extra={"error": type(exc).__name__})
        return call(_file_backend())


def _params(rate: float, burst: int | None) -> tuple[float, float]:
    if rate <= 0:
        raise ValueError("rate must be positive")
    interval = 1.0 / rate
    return interval, max(0, (burst or 1) - 1) * interval


def reserve(key: str, rate: float, *, burst: int | None = None, max_wait: float = float("inf"),
            now: float | None = None) -> Reservation:
    """Book the next slot for ``key`` unless it is more than ``max_wait`` seconds away. Does not sleep."""
    interval, tolerance = _params(rate, burst)
    max_wait = min(max_wait, 10 ** 9)
    return _with_fallback(lambda b: b.reserve(key, interval=interval, tolerance=tolerance, max_wait=max_wait, now=now))


def acquire(key: str, rate: float, burst: int | None = None, timeout: float | None = None) -> float:
    """Block until one request for ``key`` may be sent at ``rate`` per second; returns the seconds waited.

    The slot is taken only when it is due (take-or-sleep, not reserve-then-sleep): a process that
    wakes up late, starved of CPU, cannot send on a stale reservation and crowd the next one, so
    sends stay ``1/rate`` apart as taken, which is what Clockify's one-second window sees.
    ``burst`` (default 1) is how many may go back to back after an idle spell; keep it 1 where
    "at most ``rate`` in any second" must hold. Raises ``RateLimitTimeout`` after ``timeout``.
    """
    if timeout is None:
        timeout = float(getattr(settings, "CLOCKIFY_RATE_LIMIT_TIMEOUT_SECONDS", 120.0))
    started = time.monotonic()
    while True:
        reservation = reserve(key, rate, burst=burst, max_wait=0.0)
        if reservation.allowed:
            return time.monotonic() - started
        remaining = timeout - (time.monotonic() - started)
        if reservation.wait > remaining:
            raise RateLimitTimeout(key, reservation.wait)
        time.sleep(reservation.wait)


def penalize(key: str, seconds: float) -> None:
    """Push every process's next slot for ``key`` at least ``seconds`` away (after a 429)."""
    if seconds > 0:
        _with_fallback(lambda b: b.penalize(key, seconds))
