"""A lean HTTP load sender for the benchmarks: pre-built requests over raw asyncio sockets.

``requests`` from a thread pool costs about 1 ms of CPU per call, on the same two cores as what is
being measured; this sends pre-rendered HTTP/1.1 requests from one event loop for a fraction of
that. Each request opens its own connection (gunicorn's sync workers close it after the response
anyway) and records when its response arrived and with which status.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable


@dataclass(frozen=True)
class Request:
    key: str  # what the caller matches results by (an event id, say)
    raw: bytes


@dataclass(frozen=True)
class Result:
    key: str
    status: int  # 0: no HTTP answer (connection error)
    sent_at: float  # time.monotonic()
    done_at: float


def build_post(host: str, port: int, path: str, body: Any, headers: dict[str, str], *, key: str) -> Request:
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json",
             f"Content-Length: {len(payload)}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return Request(key, ("\r\n".join(lines) + "\r\n\r\n").encode() + payload)


async def _one(host: str, port: int, request: Request, timeout: float) -> Result:
    sent = time.monotonic()
    status = 0
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        try:
            writer.write(request.raw)
            status_line = await asyncio.wait_for(reader.readline(), timeout)
            parts = status_line.split(b" ", 2)
            status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
            await asyncio.wait_for(reader.read(), timeout)  # until the server closes
        finally:
            writer.close()
    except (OSError, asyncio.TimeoutError):
        pass
    return Result(request.key, status, sent, time.monotonic())


async def _send_all(host: str, port: int, requests: list[Request], concurrency: int,
                    pace: float | None, timeout: float, on_result: Callable[[Result], None] | None) -> list[Result]:
    results: list[Result] = []
    queue: asyncio.Queue[Request | None] = asyncio.Queue()
    start = time.monotonic()

    async def feeder() -> None:
        for i, request in enumerate(requests):
            if pace:
                delay = start + i / pace - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            await queue.put(request)
        for _ in range(concurrency):
            await queue.put(None)

    async def worker() -> None:
        while (request := await queue.get()) is not None:
            result = await _one(host, port, request, timeout)
            results.append(result)
            if on_result is not None:
                on_result(result)

    await asyncio.gather(feeder(), *(worker() for _ in range(concurrency)))
    return results


def send(host: str, port: int, requests: Iterable[Request], *, concurrency: int = 16, pace: float | None = None,
         timeout: float = 30.0, on_result: Callable[[Result], None] | None = None) -> list[Result]:
    """Send every request (``pace``: at most that many per second, else as fast as answered)."""
    return asyncio.run(_send_all(host, port, list(requests), concurrency, pace, timeout, on_result))
