"""pytest fixtures for the local Clockify stand-in (registered in conftest.py).

``standin``: a started ``StandinServer`` trusting the ``clockify_keys`` key, stopped at teardown.
``clockify_side``: a factory of ``ClockifySide`` objects (the Clockify end of the add-on protocol)
talking to the platform through ``live_server`` (real HTTP), a Django test ``client`` or a URL::

    side = clockify_side("api-studio", platform=live_server, standin=standin)
    assert side.install().status_code == 200
    side.send_webhook("NEW_PROJECT")
"""

from __future__ import annotations

import itertools
from typing import Any, Iterator

import pytest

from clockify_standin.clockify_side import ClockifySide
from clockify_standin.server import StandinServer

_ids = itertools.count(1)
# Nothing listens on the discard port: without a stand-in, API calls fail fast instead of escaping.
NO_BACKEND_URL = "http://127.0.0.1:9/api"


def hex_id(prefix: str = "") -> str:
    """A fresh 24-character id (Clockify's id format) for tests; ``prefix`` should be hex."""
    return f"{prefix[:4]:0>4}{next(_ids):020x}" if prefix else f"c10c{next(_ids):020x}"


@pytest.fixture
def standin(clockify_keys) -> Iterator[StandinServer]:
    server = StandinServer(clockify_keys.public_pem).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def clockify_side(clockify_keys):
    def _make(variant_slug: str = "universal-webhook", *, platform: Any, standin: StandinServer | None = None,
              workspace_id: str | None = None, addon_id: str | None = None, seed_size: int = 200,
              private_pem: str | None = None) -> ClockifySide:
        if isinstance(platform, str):
            base_url, http = platform, None
        elif hasattr(platform, "url"):  # pytest-django's live_server
            base_url, http = platform.url, None
        else:  # a Django test Client
            base_url, http = "http://testserver", platform
        workspace_id = workspace_id or hex_id()
        if standin is not None and not standin.has_workspace(workspace_id):
            standin.seed_workspace(workspace_id, size=seed_size)
        return ClockifySide(
            base_url, variant_slug, private_pem=private_pem or clockify_keys.private_pem,
            backend_url=standin.backend_url if standin is not None else NO_BACKEND_URL,
            workspace_id=workspace_id, addon_id=addon_id or hex_id(), http=http, standin=standin,
        )

    return _make
