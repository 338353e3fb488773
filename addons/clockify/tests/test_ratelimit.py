"""The per-workspace bucket: GCRA arithmetic, both backends, and atomicity across processes."""

from __future__ import annotations

import multiprocessing
import uuid

import pytest
from django.conf import settings as django_settings

from addons.clockify import ratelimit
from addons.clockify.ratelimit import FileBucket, RateLimitTimeout, gcra

needs_redis = pytest.mark.skipif(not django_settings.REDIS_URL, reason="REDIS_URL not set")


def _key() -> str:
    return f"test-{uuid.uuid4().hex}"


def test_gcra_spaces_slots_by_the_interval():
    tat, waits = 0.0, []
    for _ in range(4):
        reservation, tat = gcra(tat, 100.0, interval=0.1, tolerance=0.0, max_wait=10)
        waits.append(round(reservation.wait, 6))
    assert waits == [0.0, 0.1, 0.2, 0.3]


def test_gcra_burst_lets_that_many_go_at_once():
    tat, waits = 0.0, []
    for _ in range(4):
        reservation, tat = gcra(tat, 100.0, interval=0.1, tolerance=0.2, max_wait=10)  # burst 3
        waits.append(round(reservation.wait, 6))
    assert waits == [0.0, 0.0, 0.0, 0.1]


def test_gcra_refusal_takes_no_slot():
    tat = 105.0
    reservation, new_tat = gcra(tat, 100.0, interval=0.1, tolerance=0.0, max_wait=1.0)
    assert not reservation.allowed and reservation.wait == pytest.approx(5.0)
    assert new_tat == tat


def _backends(tmp_path):
    backends = [FileBucket(tmp_path / "rl")]
    if django_settings.REDIS_URL:
        backends.append(ratelimit.RedisBucket(django_settings.REDIS_URL))
    return backends


def test_backends_agree_with_the_algorithm(tmp_path):
    for bucket in _backends(tmp_path):
        key = _key()
        slots = [bucket.reserve(key, interval=0.04, tolerance=0.0, max_wait=60, now=1000.0) for _ in range(5)]
        assert [round(s.wait, 6) for s in slots] == [0.0, 0.04, 0.08, 0.12, 0.16], type(bucket).__name__
        refused = bucket.reserve(key, interval=0.04, tolerance=0.0, max_wait=0.1, now=1000.0)
        assert not refused.allowed
        assert bucket.reserve(key, interval=0.04, tolerance=0.0, max_wait=60, now=1000.0).wait == pytest.approx(0.2)


def test_penalize_pushes_every_callers_next_slot(tmp_path):
    for bucket in _backends(tmp_path):
        key = _key()
        bucket.penalize(key, 30.0)
        reservation = bucket.reserve(key, interval=0.04, tolerance=0.0, max_wait=60)
        assert 29.0 < reservation.wait <= 30.0, type(bucket).__name__


def test_acquire_times_out_without_taking_a_slot(settings, tmp_path):
    settings.REDIS_URL = ""
    settings.VAR_DIR = tmp_path
    key = _key()
    ratelimit.penalize(key, 10.0)
    with pytest.raises(RateLimitTimeout):
        ratelimit.acquire(key, 50, timeout=0.5)
    assert ratelimit.reserve(key, 50, max_wait=60).wait < 10.1  # still the first slot after the pause


def _reserve_many(kind: str, url: str, folder: str, key: str, count: int, queue) -> None:
    bucket = ratelimit.RedisBucket(url) if kind == "redis" else FileBucket(__import__("pathlib").Path(folder))
    queue.put([bucket.reserve(key, interval=0.01, tolerance=0.0, max_wait=3600).at for _ in range(count)])


@pytest.mark.parametrize("kind", ["file", pytest.param("redis", marks=needs_redis)])
def test_four_processes_never_share_or_crowd_a_slot(kind, tmp_path):
    """The slots handed to 4 concurrent processes are all distinct and at least 1/rate apart:
    the read-modify-write is atomic across processes."""
    ctx = multiprocessing.get_context("fork")
    queue, key = ctx.Queue(), _key()
    procs = [ctx.Process(target=_reserve_many, args=(kind, django_settings.REDIS_URL, str(tmp_path / "rl"), key,
                                                     50, queue)) for _ in range(4)]
    for proc in procs:
        proc.start()
    slots = sorted(s for _ in procs for s in queue.get(timeout=30))
    for proc in procs:
        proc.join(timeout=10)
    assert len(slots) == 200
    gaps = [b - a for a, b in zip(slots, slots[1:])]
    assert min(gaps) >= 0.01 - 1e-5


def test_unreachable_redis_falls_back_to_the_host_bucket(settings, tmp_path, caplog):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.VAR_DIR = tmp_path
    key = _key()
    first = ratelimit.reserve(key, 10)
    second = ratelimit.reserve(key, 10)
    assert first.allowed and second.wait == pytest.approx(0.1, abs=0.01)
    assert any(r.getMessage() == "ratelimit_redis_unavailable" for r in caplog.records)
    assert list((tmp_path / "ratelimit").iterdir())
