"""One wall-clock deadline for an outgoing HTTP call, enforced while it reads (issue 15).

Socket timeouts bound each ``recv``, not the call: a server sending one byte every 0.9 s never
trips a 2 s read timeout and holds the caller for as long as it likes. Here a call runs inside
``with deadline(seconds) as d:``; the sockets it opens are registered with that deadline
(``watch``), and one watchdog thread per process shuts them down when it passes. A read blocked
in another thread then returns at once (``shutdown`` wakes it; ``close`` would not), the caller's
HTTP library reports a broken connection, and ``d.expired`` tells the caller that it was the
deadline. Used by the flows' http actions (``flows.ssrf``) and the Clockify client (through
``DeadlineHTTPAdapter``), hence the explorer.

Cost per call: one heap entry and two short critical sections; no thread per call.
"""

from __future__ import annotations

import contextvars
import heapq
import itertools
import os
import socket
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class Deadline:
    __slots__ = ("at", "seconds", "sockets", "expired", "done")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.sockets: list[socket.socket] = []
        self.expired = False
        self.done = False

    def remaining(self) -> float:
        return self.at - time.monotonic()


_current: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("http_deadline", default=None)


def _shut(sock: socket.socket) -> None:
    try:
        # The plain socket's shutdown, also for a TLS socket: it wakes a blocked read without
        # touching the TLS object another thread is reading through.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed or not connected


class _Watchdog:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.wake = threading.Condition(self.lock)
        self.heap: list[tuple[float, int, Deadline]] = []
        self.order = itertools.count()
        self.thread: threading.Thread | None = None

    def add(self, deadline: Deadline) -> None:
        with self.lock:
            heapq.heappush(self.heap, (deadline.at, next(self.order), deadline))
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="http-deadline", daemon=True)
                self.thread.start()
            if self.heap[0][2] is deadline:
                self.wake.notify()

    def watch(self, deadline: Deadline, sock: socket.socket) -> None:
        with self.lock:
            if deadline.expired:
                _shut(sock)
            elif not deadline.done:
                deadline.sockets.append(sock)

    def finish(self, deadline: Deadline) -> None:
        with self.lock:  # after this the watchdog no longer touches the call's sockets
            deadline.done = True
            deadline.sockets.clear()

    def _run(self) -> None:
        with self.lock:
            while True:
                while self.heap and self.heap[0][2].done:
                    heapq.heappop(self.heap)  # finished in time
                if not self.heap:
                    self.wake.wait()
                    continue
                wait = self.heap[0][0] - time.monotonic()
                if wait > 0:
                    self.wake.wait(wait)
                    continue
                _, _, deadline = heapq.heappop(self.heap)
                deadline.expired = True
                for sock in deadline.sockets:
                    _shut(sock)
                deadline.sockets.clear()


_watchdog = _Watchdog()


def _after_fork() -> None:  # the watchdog thread does not survive a fork: start afresh in the child
    global _watchdog
    _watchdog = _Watchdog()


os.register_at_fork(after_in_child=_after_fork)


@contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    """Every socket ``watch``-ed inside this block is shut down ``seconds`` after it began."""
    current = Deadline(max(seconds, 0.0))
    token = _current.set(current)
    _watchdog.add(current)
    try:
        yield current
    finally:
        _watchdog.finish(current)
        _current.reset(token)


def watch(sock: socket.socket | None) -> None:
    """Register ``sock`` with the deadline of the enclosing ``deadline`` block, if any."""
    current = _current.get()
    if current is not None and sock is not None:
        _watchdog.watch(current, sock)


# --- urllib3 / requests: connections that put their socket under the caller's deadline ---------

class _Watched:
    def connect(self) -> None:
        super().connect()
        watch(self.sock)

    def request(self, *args, **kwargs):  # a kept-alive connection serves a new call: watch it again
        if self.sock is not None:
            watch(self.sock)
        return super().request(*args, **kwargs)


class DeadlineHTTPConnection(_Watched, HTTPConnection):
    pass


class DeadlineHTTPSConnection(_Watched, HTTPSConnection):
    pass


class DeadlineHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = DeadlineHTTPConnection


class DeadlineHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = DeadlineHTTPSConnection


class DeadlineHTTPAdapter(HTTPAdapter):
    """requests' adapter whose pools use the connections above."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": DeadlineHTTPConnectionPool,
                                                   "https": DeadlineHTTPSConnectionPool}
