"""The project's settings with the bench URLconf (the baseline view next to the real ones)."""

from config.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench.ingest.urls"
