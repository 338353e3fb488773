"""The demo orchestration and the stand-in command, as real processes where that is the point."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from clockify_standin import demo
from installations.models import Installation

MANAGE_PY = str(Path(__file__).resolve().parents[2] / "manage.py")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_keys(folder: Path, keys) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "private.pem").write_text(keys.private_pem)
    (folder / "public.pem").write_text(keys.public_pem)
    return folder


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


@pytest.mark.django_db(transaction=True)
def test_demo_once_installs_both_variants_and_sends_webhooks(live_server, standin, clockify_keys, tmp_path):
    standin.seed_workspace(demo.DEMO_WORKSPACE_ID, size=300)
    lines: list[str] = []
    opts = demo.DemoOptions(platform_url=live_server.url, standin_url=standin.base_url, size=300, interval=0,
                            rounds=len(demo.FRIENDLY_EVENTS) + 1,
                            key_dir=str(_write_keys(tmp_path / "keys", clockify_keys)))
    state = demo.run_demo(opts, out=lines.append)
    installs = Installation.objects.filter(workspace_id=demo.DEMO_WORKSPACE_ID)
    assert sorted(i.variant for i in installs) == ["api-studio", "universal-webhook"]
    assert all(i.backend_url == standin.backend_url for i in installs)
    assert state.sent == 2 * (len(demo.FRIENDLY_EVENTS) + 1) and state.by_status.get(0) is None
    text = "\n".join(lines)
    assert f"{live_server.url}/api-studio/manifest" in text
    assert f"{live_server.url}/universal-webhook/ui/dashboard?auth_token=" in text
    if state.accepted:  # once webhook ingestion is routed, every accepted webhook is in the event log
        assert demo.event_log_count(demo.DEMO_WORKSPACE_ID) == state.accepted
    # the Clockify side told the stand-in the add-on's settings, as Clockify holds them
    assert standin.workspace(demo.DEMO_WORKSPACE_ID).addon_settings["tabs"]
    # the printed URLs answer: manifests always, pages once they are built
    for line in lines:
        if "manifest :" in line:
            assert requests.get(line.split(" : ", 1)[1], timeout=5).status_code == 200


@pytest.mark.e2e
def test_standin_command_serves_and_stops_on_sigterm(clockify_keys, tmp_path):
    key_dir = _write_keys(tmp_path / "keys", clockify_keys)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, MANAGE_PY, "clockify_standin", "--port", str(port), "--size", "60", "--key-dir",
         str(key_dir)], stdout=subprocess.PIPE, text=True, env={**os.environ, "SECRET_KEY": "x"})
    try:
        assert proc.stdout is not None
        assert f"127.0.0.1:{port}" in proc.stdout.readline()
        assert _answers(f"http://127.0.0.1:{port}/healthz")
        from clockify_standin.signing import TokenMinter
        minter = TokenMinter(clockify_keys.private_pem, addon_key="k", workspace_id="c10c" + "0" * 20, addon_id="a")
        r = requests.get(f"http://127.0.0.1:{port}/api/v1/workspaces/{minter.workspace_id}/projects",
                         headers={"X-Addon-Token": minter.installation_token()}, timeout=5)
        assert r.status_code == 200 and r.json()  # auto-seeded on first use
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    assert not _answers(f"http://127.0.0.1:{port}/healthz")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_demo_command_stops_its_standin_on_ctrl_c(live_server, clockify_keys, tmp_path):
    key_dir = _write_keys(tmp_path / "keys", clockify_keys)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, MANAGE_PY, "demo", "--platform-url", live_server.url, "--standin-port", str(port),
         "--size", "100", "--interval", "0.5"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "SECRET_KEY": "x", "STANDIN_KEY_DIR": str(key_dir)})
    seen = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            seen.append(line)
            if "demo: webhook" in line or not line:
                break
        assert any("demo: installed universal-webhook" in line for line in seen), "".join(seen)
        assert _answers(f"http://127.0.0.1:{port}/healthz")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    assert not _answers(f"http://127.0.0.1:{port}/healthz")  # its stand-in child is gone too
