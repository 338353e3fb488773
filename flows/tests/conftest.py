import pytest

from flows.tests.receiver import Receiver


@pytest.fixture
def receiver():
    server = Receiver().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def allow_private(settings):
    """The loud test-only escape hatch: http actions may reach the loopback receiver."""
    settings.FLOW_HTTP_ALLOW_PRIVATE_NETWORKS = True


@pytest.fixture
def install(clockify_side, client, standin, db):
    """Install a variant on a fresh stand-in workspace over the lifecycle endpoint; returns an Api."""
    from flows.tests.helpers import Api

    def _install(variant: str = "universal-webhook", *, settings: dict | None = None, role: str = "OWNER") -> Api:
        side = clockify_side(variant, platform=client, standin=standin, seed_size=30)
        assert side.install().status_code == 200
        if settings:
            assert side.update_settings(settings).status_code == 200
        return Api(client, side, role)

    return _install


@pytest.fixture
def uw(install):
    return install("universal-webhook", settings={"enable_generic_http_actions": True})


@pytest.fixture
def studio(install):
    return install("api-studio")
