"""A hostile HTTP server on loopback for the outbound-deadline tests.

A path containing one of these words chooses the behaviour (else the server's ``mode``):
- ``/drip-body``: headers at once, then the body one byte every ``interval`` seconds;
- ``/drip-headers``: the status line, then the header lines one byte every ``interval`` seconds;
- ``/huge/<n>``: ``n`` bytes at once (``huge_bytes`` when no number), a response over a size cap;
- anything else: ``{"ok": true}``.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "DripServer._Server"

    def _drip(self, data: bytes) -> None:
        for byte in data:
            if self.server.stopping.is_set():
                return
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(self.server.interval)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.hits.append(self.path)
        mode = next((m for m in ("drip-body", "drip-headers", "huge") if f"/{m}" in self.path), self.server.mode)
        try:
            if mode == "drip-body":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "64")
                self.end_headers()
                self.wfile.flush()
                self._drip(b"[" + b"1," * 31 + b"1]")
            elif mode == "drip-headers":
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                self.wfile.flush()
                self._drip(b"X-Slow: " + b"a" * 60 + b"\r\nContent-Length: 2\r\n\r\n{}")
            elif mode == "huge":
                tail = self.path.split("?", 1)[0].rsplit("/", 1)[1]
                size = int(tail) if tail.isdigit() else self.server.huge_bytes
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(size))
                self.end_headers()
                chunk = b"a" * 65536
                left = size
                while left > 0:
                    self.wfile.write(chunk[:left])
                    left -= len(chunk)
            else:
                body = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up: that is the point

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, *args) -> None:
        pass


class DripServer:
    class _Server(ThreadingHTTPServer):
        daemon_threads = True
        interval: float
        mode: str
        huge_bytes: int
        hits: list
        stopping: threading.Event

    def __init__(self, interval: float = 0.9, *, mode: str = "ok", huge_bytes: int = 4 * 1024 * 1024) -> None:
        self._server = self._Server(("127.0.0.1", 0), _Handler)
        self._server.interval = interval
        self._server.mode = mode
        self._server.huge_bytes = huge_bytes
        self._server.hits = []
        self._server.stopping = threading.Event()
        self.port = self._server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"

    @property
    def hits(self) -> list[str]:
        return self._server.hits

    def __enter__(self) -> "DripServer":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
