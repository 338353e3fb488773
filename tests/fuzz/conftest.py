import pytest

from webhooks import lookup


@pytest.fixture(autouse=True)
def _fresh_lookup_caches():
    # The webhook hot path caches installations per process; ids from an earlier test's database are stale.
    lookup.clear_caches()
    yield
    lookup.clear_caches()
