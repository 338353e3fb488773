"""The one-command demo: a Clockify stand-in process, both variants installed into a demo
workspace, a trickle of signed webhooks, and the URLs to open.

Run by ``bin/run`` (demo mode) as ``manage.py demo`` next to the platform's web, worker and beat
processes. It starts the stand-in as its own child process (``manage.py clockify_standin``) and
stops it on Ctrl-C / SIGTERM. The platform must trust the stand-in key
(``CLOCKIFY_PUBLIC_KEY_FILE=var/standin-keys/public.pem``, which ``bin/run`` sets).
"""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import requests

from addons.variants import VARIANTS
from clockify_standin.clockify_side import ClockifySide
from clockify_standin.data import seed_workspace_data
from clockify_standin.signing import load_or_create_key_pair

DEMO_WORKSPACE_ID = "64d0c10c0000000000000001"
DEMO_ADDON_IDS = {"api-studio": "64d0add0000000000000a501", "universal-webhook": "64d0add0000000000000e501"}
# Events a newcomer recognises first; the Enterprise variant then cycles through all of its events.
FRIENDLY_EVENTS = ("NEW_TIME_ENTRY", "NEW_PROJECT", "NEW_CLIENT", "NEW_TAG", "TIME_ENTRY_UPDATED",
                   "PROJECT_UPDATED", "TIMER_STOPPED", "TAG_UPDATED")
MANAGE_PY = Path(__file__).resolve().parent.parent / "manage.py"


@dataclass
class DemoOptions:
    platform_url: str
    standin_port: int = 8100
    standin_url: str | None = None  # an already running stand-in: neither started nor stopped
    size: int = 500
    seed: int = 0
    interval: float = 2.0
    rounds: int | None = None  # webhook rounds before returning; None = until Ctrl-C
    workspace_id: str = DEMO_WORKSPACE_ID
    variants: tuple[str, ...] = tuple(VARIANTS)
    key_dir: str | None = None


@dataclass
class DemoState:
    sent: int = 0
    accepted: int = 0
    by_status: dict[int, int] = field(default_factory=dict)


def wait_for(url: str, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not answer at {url} within {timeout:.0f}s")
        time.sleep(0.3)


def start_standin(opts: DemoOptions) -> subprocess.Popen[bytes] | None:
    """Start the stand-in process, unless one already answers on the port (then reuse it)."""
    url = f"http://127.0.0.1:{opts.standin_port}"
    try:
        if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
            print(f"demo: reusing the Clockify stand-in already running at {url}", flush=True)
            return None
    except requests.RequestException:
        pass
    cmd = [sys.executable, str(MANAGE_PY), "clockify_standin", "--port", str(opts.standin_port),
           "--size", str(opts.size), "--seed", str(opts.seed), "--workspace", opts.workspace_id]
    if opts.key_dir:
        cmd += ["--key-dir", opts.key_dir]
    return subprocess.Popen(cmd)


def stop_process(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def build_sides(opts: DemoOptions, backend_url: str) -> list[ClockifySide]:
    keys = load_or_create_key_pair(opts.key_dir)
    # The stand-in process seeds the same data from the same (workspace, size, seed).
    data = seed_workspace_data(opts.workspace_id, size=opts.size, seed=opts.seed)
    return [
        ClockifySide(opts.platform_url, slug, private_pem=keys.private_pem, backend_url=backend_url,
                     workspace_id=opts.workspace_id, addon_id=DEMO_ADDON_IDS.get(slug, DEMO_ADDON_IDS["api-studio"]),
                     sync_standin_over_http=True, workspace_data=data)
        for slug in opts.variants
    ]


def event_log_count(workspace_id: str) -> int | None:
    """Events of the demo workspace in the platform's event log, or None while there is none."""
    try:
        from webhooks.models import WebhookEvent  # built in parallel; absent in early checkouts
    except ImportError:
        return None
    try:
        return WebhookEvent.objects.filter(installation__workspace_id=workspace_id).count()
    except Exception:  # model present but shaped differently: report the HTTP answers only
        return None


def print_urls(sides: list[ClockifySide], backend_url: str, out: Callable[[str], None] = print) -> None:
    out("")
    out("=" * 78)
    out("Clockify add-on platform demo: open these")
    for side in sides:
        out(f"  {side.variant_slug}")
        out(f"    manifest : {side.addon_base_url}/manifest")
        out(f"    sidebar  : {side.sidebar_url(side.user_token(role='OWNER'))}")
    out(f"  admin      : {sides[0].platform_base_url if sides else ''}/admin/")
    out(f"  stand-in   : {backend_url}  (fake Clockify API, workspace {sides[0].workspace_id if sides else ''})")
    out("  user tokens expire in 30 minutes; fresh ones: DEBUG=true .venv/bin/python manage.py demo --print-urls")
    out("=" * 78)


def send_one(side: ClockifySide, event: str, state: DemoState) -> int:
    try:
        status = side.send_webhook(event).status_code
    except requests.RequestException:
        status = 0
    state.sent += 1
    state.by_status[status] = state.by_status.get(status, 0) + 1
    if 200 <= status < 300:
        state.accepted += 1
    return status


def run_demo(opts: DemoOptions, out: Callable[[str], None] = print) -> DemoState:
    proc = None if opts.standin_url else start_standin(opts)
    backend_url = f"{opts.standin_url or f'http://127.0.0.1:{opts.standin_port}'}/api"
    state = DemoState()
    try:
        wait_for(backend_url.rsplit("/api", 1)[0] + "/healthz", timeout=30, what="the Clockify stand-in")
        wait_for(f"{opts.platform_url}/healthz", timeout=90, what="the platform")
        sides = build_sides(opts, backend_url)
        for side in sides:
            r = side.install()
            if r.status_code != 200:
                hint = (" - does the platform trust the stand-in key "
                        "(CLOCKIFY_PUBLIC_KEY_FILE=var/standin-keys/public.pem)?" if r.status_code == 401 else "")
                raise RuntimeError(f"INSTALLED {side.variant_slug}: HTTP {r.status_code} {r.content[:200]!r}{hint}")
            out(f"demo: installed {side.variant_slug} into workspace {side.workspace_id}")
        print_urls(sides, backend_url, out)
        # Familiar events first, then every other event the variant subscribes to.
        cycles = {s.variant_slug: itertools.cycle(list(dict.fromkeys(
            [e for e in FRIENDLY_EVENTS if e in s.events] + list(s.events)))) for s in sides}
        last_report = 0.0
        for round_no in itertools.count(1):
            for side in sides:
                event = next(cycles[side.variant_slug])
                status = send_one(side, event, state)
                if state.sent <= len(sides) * 2:
                    out(f"demo: webhook {event} -> {side.variant_slug}: HTTP {status}")
            if opts.rounds is not None and round_no >= opts.rounds:
                break
            if time.monotonic() - last_report > 30:
                last_report = time.monotonic()
                logged = event_log_count(opts.workspace_id)
                log_note = f"event log: {logged} events" if logged is not None else "event log: not built yet"
                out(f"demo: webhooks sent {state.sent}, accepted {state.accepted} · {log_note}")
            time.sleep(opts.interval)
        logged = event_log_count(opts.workspace_id)
        out(f"demo: webhooks sent {state.sent}, accepted {state.accepted}"
            + (f" · event log: {logged} events" if logged is not None else " · event log: not built yet"))
    except KeyboardInterrupt:
        pass
    finally:
        stop_process(proc)
    return state


def install_signal_handlers() -> None:
    """SIGTERM (bin/run's cleanup) ends the demo like Ctrl-C does, so its stand-in child stops too."""

    def _stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
