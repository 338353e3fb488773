"""``manage.py demo``: the stand-in, both variants installed, a webhook trickle, the URLs to open.

``bin/run`` runs it in demo mode next to web, worker and beat; Ctrl-C stops it and its stand-in.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from addons.variants import VARIANTS
from clockify_standin import demo


class Command(BaseCommand):
    help = "Run the local demo: Clockify stand-in, installs into a demo workspace, webhook trickle."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--platform-url", default=None, help="default: PUBLIC_BASE_URL")
        parser.add_argument("--standin-port", type=int, default=int(os.environ.get("STANDIN_PORT", "8100")))
        parser.add_argument("--standin-url", default=None, help="use a running stand-in (not started/stopped)")
        parser.add_argument("--size", type=int, default=500, help="entities in the demo workspace")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--interval", type=float, default=2.0, help="seconds between webhook rounds")
        parser.add_argument("--once", action="store_true", help="install, send one round, print, exit")
        parser.add_argument("--print-urls", action="store_true", help="only print the URLs with fresh tokens")
        parser.add_argument("--variant", action="append", choices=list(VARIANTS), default=None)

    def handle(self, *args: Any, **opts: Any) -> None:
        options = demo.DemoOptions(
            platform_url=(opts["platform_url"] or settings.PUBLIC_BASE_URL).rstrip("/"),
            standin_port=opts["standin_port"], standin_url=opts["standin_url"], size=opts["size"],
            seed=opts["seed"], interval=opts["interval"], rounds=1 if opts["once"] else None,
            variants=tuple(opts["variant"] or VARIANTS),
        )
        out = lambda line: (self.stdout.write(line), self.stdout.flush())  # noqa: E731
        if opts["print_urls"]:
            backend = f"{options.standin_url or f'http://127.0.0.1:{options.standin_port}'}/api"
            demo.print_urls(demo.build_sides(options, backend), backend, out)
            return
        demo.install_signal_handlers()
        try:
            state = demo.run_demo(options, out)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from None
        if options.rounds and state.accepted == 0:
            raise CommandError("no webhook was accepted")
