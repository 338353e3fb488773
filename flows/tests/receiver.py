"""A local HTTP receiver for http-action tests: records requests, answers by path.

``/status/<code>`` answers that code, ``/flaky/<n>`` answers 503 n times then 200,
``/slow/<seconds>`` sleeps first, ``/hang/<n>`` hangs 30 s on its first n calls, ``/redirect?to=<url>`` answers 302, ``/big`` sends 1 MiB,
anything else echoes ``{"ok": true, "path": ...}`` (201 for POST).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.counters: dict[str, int] = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with receiver._lock:
                    receiver.requests.append(Received(self.command, self.path, dict(self.headers.items()), body))
                    count = receiver.counters[self.path] = receiver.counters.get(self.path, 0) + 1
                parts = urlsplit(self.path)
                segments = parts.path.strip("/").split("/")
                status, payload, headers = (201 if self.command == "POST" else 200), None, {}
                if segments[0] == "status":
                    status = int(segments[1])
                elif segments[0] == "flaky":
                    status = 503 if count <= int(segments[1]) else 200
                elif segments[0] == "slow":
                    time.sleep(float(segments[1]))
                elif segments[0] == "hang":  # the first n calls hang (a request caught in flight)
                    if count <= int(segments[1]):
                        time.sleep(30)
                elif segments[0] == "redirect":
                    status, headers = 302, {"Location": parse_qs(parts.query)["to"][0]}
                elif segments[0] == "big":
                    payload = b"x" * (1024 * 1024)
                if payload is None:
                    payload = json.dumps({"ok": True, "path": parts.path, "count": count}).encode()
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def count(self, path_prefix: str = "/") -> int:
        return sum(1 for r in self.requests if r.path.startswith(path_prefix))

    def start(self) -> "Receiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
