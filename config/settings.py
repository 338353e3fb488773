"""Django settings. Every knob comes from the environment (django-environ).

Embedded defaults (no external server needed): SQLite under ``var/`` when
``DATABASE_URL`` is unset; when ``REDIS_URL`` is unset, Celery uses kombu's
``filesystem://`` transport under ``var/broker`` and the cache (which also backs
the rate limiters) is Django's database cache, shared by web and worker processes.
"""

from __future__ import annotations

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is read for development convenience; the real environment wins.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=False)

# Unset: a development key, which the system checks (config.checks) refuse when DEBUG is off,
# as they refuse every missing production setting and every escape hatch, naming the variable.
DEV_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default="") or DEV_SECRET_KEY

# Public address Clockify uses to reach us; each variant's manifest baseUrl is this + "/<variant>".
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://localhost:8000").rstrip("/")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
_public_host = PUBLIC_BASE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
if _public_host and _public_host not in ALLOWED_HOSTS and "*" not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(_public_host)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_prometheus",
    "rest_framework",
    "drf_spectacular",
    "addons",
    "installations",
    "webhooks",
    "bootstrap",
    "flows",
    "explorer",
    "clockify_standin",
    "ui",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "config.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'platform.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web and worker processes of the embedded mode read while one writes. IMMEDIATE
    # transactions take the write lock at BEGIN, so concurrent writers wait (timeout) instead of
    # failing at once with "database is locked" when a read transaction tries to upgrade.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
         "transaction_mode": "IMMEDIATE"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Django's own queries bind on the client and are never prepared. The hot path's few constant
    # statements (config.db) ask for a prepared plan explicitly, which psycopg honours only with a
    # threshold set; this one is never reached by automatic preparation. Behind a transaction-
    # pooling proxy (PgBouncer, transaction mode) set DATABASE_PREPARED_STATEMENTS=false.
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 1_000_000
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, Celery, cache ---------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
EMBEDDED_BROKER_DIR = VAR_DIR / "broker"

if REDIS_URL:
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="clk"),
        }
    }
else:
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "platform_cache",
        }
    }

if CELERY_BROKER_URL.startswith("filesystem://"):
    for _sub in ("out", "processed", "control"):
        (EMBEDDED_BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(EMBEDDED_BROKER_DIR / "out"),
        "data_folder_out": str(EMBEDDED_BROKER_DIR / "out"),
        "processed_folder": str(EMBEDDED_BROKER_DIR / "processed"),
        "control_folder": str(EMBEDDED_BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # A task not acknowledged within this window is redelivered: keep it above the longest time limit.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
if CELERY_BROKER_URL.startswith("redis://"):
    CELERY_BROKER_TRANSPORT = "config.broker:Transport"  # kombu's, reusing its Redis client (see there)

CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = env.int("CELERY_WORKER_PREFETCH_MULTIPLIER", default=4)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=900)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=840)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES_NAMES = ("webhooks", "flows", "bootstrap", "default")
CELERY_TASK_ROUTES = {
    # Exact names win over patterns: these call Clockify for seconds, away from the ingest queue.
    "webhooks.sync_workspace_webhooks": {"queue": "default"},
    "webhooks.sync_all_workspace_webhooks": {"queue": "default"},
    "webhooks.*": {"queue": "webhooks"},
    "flows.*": {"queue": "flows"},
    "bootstrap.*": {"queue": "bootstrap"},
}
CELERY_BEAT_SCHEDULE: dict = {}  # Filled by each app's ``schedules.py`` (see config.celery).

# --- Clockify contract --------------------------------------------------------------------------
# Clockify's published RSA key is the default; tests and the local stand-in replace it.
CLOCKIFY_PUBLIC_KEY = env.str("CLOCKIFY_PUBLIC_KEY", default="", multiline=True)
CLOCKIFY_PUBLIC_KEY_FILE = env.str("CLOCKIFY_PUBLIC_KEY_FILE", default="")
CLOCKIFY_TOKEN_LEEWAY_SECONDS = env.int("CLOCKIFY_TOKEN_LEEWAY_SECONDS", default=30)
REQUIRE_SIGNATURE_VERIFICATION = env.bool("REQUIRE_SIGNATURE_VERIFICATION", default=True)
# Manifest keys (the JWT ``sub``); a private add-on needs its own.
ADDON_KEY_API_STUDIO = env.str("ADDON_KEY_API_STUDIO", default="clockify-api-studio")
ADDON_KEY_UNIVERSAL_WEBHOOK = env.str("ADDON_KEY_UNIVERSAL_WEBHOOK", default="clockify-universal-webhook")
# Where Clockify serves the manifest schema of a version (``manage.py check_manifests --live``).
CLOCKIFY_MANIFEST_SCHEMA_URL = env.str(
    "CLOCKIFY_MANIFEST_SCHEMA_URL", default="https://api.clockify.me/api/addons/manifest-schema?version={version}"
)
# Origins allowed to frame the iframe pages.
CLOCKIFY_FRAME_ANCESTORS = env.list(
    "CLOCKIFY_FRAME_ANCESTORS", default=["https://clockify.me", "https://*.clockify.me"]
)

# Fernet keys for tokens at rest, newest first; older keys still decrypt (rotation).
TOKEN_ENCRYPTION_KEYS = env.list("TOKEN_ENCRYPTION_KEYS", default=[])

# Per-installation defaults for structured settings: ``ADDON_DEFAULT_<SETTING_ID>`` env vars
# override the registry's defaults; Clockify's SETTINGS_UPDATED values override both.
ADDON_SETTING_DEFAULTS = {
    key[len("ADDON_DEFAULT_"):].lower(): value
    for key, value in env.ENVIRON.items()
    if key.startswith("ADDON_DEFAULT_")
}

# --- Retention -------------------------------------------------------------------------------
DELETED_INSTALLATION_GRACE_DAYS = env.int("DELETED_INSTALLATION_GRACE_DAYS", default=30)
RETENTION_TIME_BUDGET_SECONDS = env.float("RETENTION_TIME_BUDGET_SECONDS", default=120.0)

# --- Webhooks -------------------------------------------------------------------------------------
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=1024 * 1024)
WEBHOOK_DEDUPE_WINDOW_SECONDS = env.int("WEBHOOK_DEDUPE_WINDOW_SECONDS", default=600)
WEBHOOK_INGEST_RATE_PER_SECOND = env.int("WEBHOOK_INGEST_RATE_PER_SECOND", default=200)
WEBHOOK_INGEST_BURST = env.int("WEBHOOK_INGEST_BURST", default=400)
WEBHOOK_SWEEP_AFTER_SECONDS = env.int("WEBHOOK_SWEEP_AFTER_SECONDS", default=60)
WEBHOOK_SWEEP_INTERVAL_SECONDS = env.float("WEBHOOK_SWEEP_INTERVAL_SECONDS", default=30.0)
WEBHOOK_SWEEP_BATCH_SIZE = env.int("WEBHOOK_SWEEP_BATCH_SIZE", default=1000)
# How long a process trusts its cached (variant, workspace) -> installation/subscription lookup.
WEBHOOK_LOOKUP_CACHE_SECONDS = env.float("WEBHOOK_LOOKUP_CACHE_SECONDS", default=10.0)
# A webhook at a path with no stored token asks Clockify (getAddonWebhooks) at most this often per installation.
WEBHOOK_TOKEN_REFRESH_INTERVAL_SECONDS = env.int("WEBHOOK_TOKEN_REFRESH_INTERVAL_SECONDS", default=300)
# Workspace webhooks for the API-only events are checked (and re-created when gone) this often.
WORKSPACE_WEBHOOKS_SYNC_INTERVAL_SECONDS = env.int("WORKSPACE_WEBHOOKS_SYNC_INTERVAL_SECONDS", default=3600)
WEBHOOK_CUSTOM_TOLERANCE_SECONDS = env.int("WEBHOOK_CUSTOM_TOLERANCE_SECONDS", default=300)
WEBHOOK_SECRET_ROTATION_GRACE_SECONDS = env.int("WEBHOOK_SECRET_ROTATION_GRACE_SECONDS", default=86400)
WEBHOOK_PURGE_BATCH_SIZE = env.int("WEBHOOK_PURGE_BATCH_SIZE", default=1000)
WEBHOOK_PURGE_TIME_BUDGET_SECONDS = env.float("WEBHOOK_PURGE_TIME_BUDGET_SECONDS", default=60.0)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(WEBHOOK_MAX_BODY_BYTES * 2, 2621440)
# JSON sent by the pages (DRF API and XHRs): size (413 above) and nesting bounds (config.json_input).
API_JSON_MAX_BYTES = env.int("API_JSON_MAX_BYTES", default=1024 * 1024)
API_JSON_MAX_DEPTH = env.int("API_JSON_MAX_DEPTH", default=64)

# --- Clockify API client ---------------------------------------------------------------------------
# Hosts the client may call (addons.clockify.hosts): Clockify's API (api.clockify.me), reports, locations,
# screenshots, pto (*.api.clockify.me), regional (euc1.clockify.me, ...), developer and subdomain hosts.
# The stand-in and tests add loopback explicitly.
CLOCKIFY_API_HOSTS = env.list("CLOCKIFY_API_HOSTS", default=["api.clockify.me", "*.clockify.me"])
# One attempt, connect to last byte (config.http_deadline), and the largest answer read.
CLOCKIFY_HTTP_TIMEOUT_SECONDS = env.float("CLOCKIFY_HTTP_TIMEOUT_SECONDS", default=15.0)
CLOCKIFY_RESPONSE_MAX_BYTES = env.int("CLOCKIFY_RESPONSE_MAX_BYTES", default=16 * 1024 * 1024)
CLOCKIFY_MAX_RETRIES = env.int("CLOCKIFY_MAX_RETRIES", default=5)
CLOCKIFY_WORKSPACE_RATE_LIMIT = env.int("CLOCKIFY_WORKSPACE_RATE_LIMIT", default=50)
CLOCKIFY_CONNECT_TIMEOUT_SECONDS = env.float("CLOCKIFY_CONNECT_TIMEOUT_SECONDS", default=5.0)
CLOCKIFY_BACKOFF_BASE_SECONDS = env.float("CLOCKIFY_BACKOFF_BASE_SECONDS", default=0.5)
CLOCKIFY_BACKOFF_MAX_SECONDS = env.float("CLOCKIFY_BACKOFF_MAX_SECONDS", default=30.0)
# Longest a caller waits for a slot in the per-workspace token bucket before giving up.
CLOCKIFY_RATE_LIMIT_TIMEOUT_SECONDS = env.float("CLOCKIFY_RATE_LIMIT_TIMEOUT_SECONDS", default=120.0)

# --- Bootstrap ------------------------------------------------------------------------------------
BOOTSTRAP_PARALLELISM = env.int("BOOTSTRAP_PARALLELISM", default=4)  # drivers per run
BOOTSTRAP_PAGE_SIZE = env.int("BOOTSTRAP_PAGE_SIZE", default=50)
BOOTSTRAP_LEASE_SECONDS = env.int("BOOTSTRAP_LEASE_SECONDS", default=120)  # a dead worker's step is retaken after
BOOTSTRAP_DRIVER_BUDGET_SECONDS = env.int("BOOTSTRAP_DRIVER_BUDGET_SECONDS", default=300)

# --- Explorer -------------------------------------------------------------------------------------
# Clockify's published document (any API call); "bundled" (or empty) keeps the bundled core catalogue.
# The periodic sync re-reads it when the cached copy is older than OPENAPI_SYNC_MAX_AGE_SECONDS.
CLOCKIFY_OPENAPI_SOURCE = env.str("CLOCKIFY_OPENAPI_SOURCE", default="https://docs.clockify.me/openapi.json")
OPENAPI_SYNC_MAX_AGE_SECONDS = env.int("OPENAPI_SYNC_MAX_AGE_SECONDS", default=86400)

# --- Flows ----------------------------------------------------------------------------------------
FLOW_RUN_TIME_LIMIT_SECONDS = env.int("FLOW_RUN_TIME_LIMIT_SECONDS", default=300)  # a run's time bound
# One event's conditions, over every flow it triggers: rules left when it is spent do not hold.
FLOW_CONDITIONS_TIME_BUDGET_SECONDS = env.float("FLOW_CONDITIONS_TIME_BUDGET_SECONDS", default=0.5)
FLOW_STEP_TIMEOUT_SECONDS = env.float("FLOW_STEP_TIMEOUT_SECONDS", default=10.0)
FLOW_STEP_MAX_ATTEMPTS = env.int("FLOW_STEP_MAX_ATTEMPTS", default=3)  # default; an action may set 1-10
FLOW_STEP_BACKOFF_BASE_SECONDS = env.float("FLOW_STEP_BACKOFF_BASE_SECONDS", default=1.0)
FLOW_STEP_BACKOFF_MAX_SECONDS = env.float("FLOW_STEP_BACKOFF_MAX_SECONDS", default=60.0)
FLOW_STEP_RESPONSE_MAX_BYTES = env.int("FLOW_STEP_RESPONSE_MAX_BYTES", default=65536)
# One task may carry several runs (config.enqueue.coalesced): runs of a delivery not started after
# this long go back to the queue, so a slow run holds up the others in its batch for at most itself.
FLOW_RUN_BATCH_SECONDS = env.float("FLOW_RUN_BATCH_SECONDS", default=1.0)
FLOW_RUN_LEASE_SECONDS = env.float("FLOW_RUN_LEASE_SECONDS", default=60.0)  # a killed worker's run is retaken after
# TEST-ONLY escape hatch: lets http actions reach loopback/private addresses (metadata stays refused);
# refused at start unless DEBUG is on (config.checks).
FLOW_HTTP_ALLOW_PRIVATE_NETWORKS = env.bool("FLOW_HTTP_ALLOW_PRIVATE_NETWORKS", default=False)
# An explorer call runs inside a web request: all its attempts end within this (gunicorn's timeout is 30 s).
EXPLORER_EXECUTE_TIMEOUT_SECONDS = env.float("EXPLORER_EXECUTE_TIMEOUT_SECONDS", default=20.0)
EXPLORER_RESPONSE_MAX_BYTES = env.int("EXPLORER_RESPONSE_MAX_BYTES", default=256 * 1024)  # shown to the user
EXPLORER_LOG_BODY_BYTES = env.int("EXPLORER_LOG_BODY_BYTES", default=2048)  # kept in the call log

# --- Operations -----------------------------------------------------------------------------------
METRICS_BEARER_TOKEN = env.str("METRICS_BEARER_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"])

# --- Django plumbing ------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
# Behind a TLS-terminating proxy (docs/deploy.md): trust its X-Forwarded-Proto, and then no longer
# trust client addresses for /metrics (every client arrives from the proxy's).
TRUST_X_FORWARDED_PROTO = env.bool("TRUST_X_FORWARDED_PROTO", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUST_X_FORWARDED_PROTO else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]  # probes and scrapers inside the network
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Only the admin uses cookies (the iframe pages use none): HTTPS-only unless DEBUG.
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # The pages' JSON only, through one bounded parser (config.json_input): forms are 415.
    "DEFAULT_PARSER_CLASSES": ["config.json_input.BoundedJSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Clockify add-on platform API",
    "DESCRIPTION": "JSON API behind the iframe pages, authenticated by the Clockify user token.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Several models have a `status` field with different choices: give each enum its own name.
    "ENUM_NAME_OVERRIDES": {
        "FlowRunStatusEnum": "flows.models.RunStatus",
        "FlowStepStatusEnum": "flows.models.StepStatus",
        "BootstrapRunStatusEnum": "bootstrap.models.RunStatus",
        "BootstrapStepStatusEnum": "bootstrap.models.StepStatus",
        "WebhookEventStatusEnum": "webhooks.models.EventStatus",
    },
}

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "addons.logging.RedactingFilter"}},
    "formatters": {
        "json": {"()": "addons.logging.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT if LOG_FORMAT in ("json", "plain") else "json",
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.server": {"level": "WARNING"},
        # Its DEBUG lines are request lines: paths and query strings may carry credentials.
        "urllib3": {"level": "WARNING"},
    },
}
