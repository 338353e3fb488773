"""``manage.py clockify_standin``: serve the local Clockify stand-in in the foreground (Ctrl-C stops).

Trusts the stand-in key pair (``STANDIN_KEY_DIR``, default ``var/standin-keys``; created when
missing). Any workspace a valid token names is seeded on first use with ``--size``/``--seed``.
"""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from clockify_standin.server import StandinServer
from clockify_standin.signing import load_or_create_key_pair


class Command(BaseCommand):
    help = "Run the local Clockify stand-in API on loopback."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8100)
        parser.add_argument("--size", type=int, default=200, help="entities per seeded workspace")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--workspace", action="append", default=[], help="seed this workspace id at start")
        parser.add_argument("--rate-limit", type=int, default=50, help="requests/s per workspace (0 = off)")
        parser.add_argument("--retry-after", type=int, default=None, help="send Retry-After on 429")
        parser.add_argument("--fault-5xx-rate", type=float, default=0.0)
        parser.add_argument("--fault-seed", type=int, default=0)
        parser.add_argument("--latency-ms", type=int, default=0)
        parser.add_argument("--key-dir", default=None, help="stand-in key folder (default var/standin-keys)")

    def handle(self, *args: Any, **opts: Any) -> None:
        keys = load_or_create_key_pair(opts["key_dir"])
        server = StandinServer(
            keys.public_pem, rate_limit_per_second=opts["rate_limit"] or None,
            fault_5xx_rate=opts["fault_5xx_rate"], latency_ms=opts["latency_ms"], host=opts["host"],
            port=opts["port"], fault_seed=opts["fault_seed"], retry_after=opts["retry_after"],
            auto_seed_size=opts["size"], auto_seed=opts["seed"],
        )
        for workspace_id in opts["workspace"]:
            server.seed_workspace(workspace_id, size=opts["size"], seed=opts["seed"])

        def _stop(signum: int, frame: Any) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, _stop)
        server.start()
        self.stdout.write(f"clockify stand-in on {server.base_url} (backendUrl {server.backend_url})")
        self.stdout.flush()
        server.serve_forever()
