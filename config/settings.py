"""Settings, all read from the environment (12-factor); see ``.env.example``.

Without any variable set, the product runs embedded: SQLite in ``var/`` and a
filesystem Celery broker, so ``make run`` needs neither PostgreSQL nor Redis.
"""

from pathlib import Path

import environ
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")  # optional; real environment wins

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"
# Rotating SECRET_KEY: put the old one here (comma-separated) while sessions and password
# reset links signed with it run out (docs/operations.md); then remove it.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "audit",
    "history",
    "teams",
    "routing",
    "funnel",
    "leads",
    "overflow",
    "integrations",
    "sources",
    "accounts",
    "reports",
    "live",
    "ops",
    "imports",
    "onboarding",
    "demo",
]

MIDDLEWARE = [
    # /healthz, /readyz and /metrics answer before anything else (no host check, no redirect).
    "ops.probes.ProbeMiddleware",
    # The request id, one log line per request, and its latency for /metrics.
    "ops.middleware.RequestMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # django-csp's, with the site's policy built once (ops.middleware).
    "ops.middleware.SitePolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Before anything reads the body: a chunked one would read as empty.
    "teams.middleware.RequireContentLengthMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "teams.middleware.CurrentMembershipMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
                "django.template.context_processors.i18n",
                "teams.context_processors.membership",
                "leads.context_processors.lead_limit",
                "onboarding.context_processors.first_steps",
                "accounts.context_processors.organizations",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'transbordo.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    # The web server and the Celery worker write at once: WAL lets readers
    # run beside the writer, the busy timeout makes a writer wait instead of
    # failing with "database is locked", and IMMEDIATE transactions take the
    # write lock at BEGIN so two writers never deadlock upgrading a read lock.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
# Sign-in limits (accounts/throttle.py): "<tries>/<time>" is that many tries in a row, coming
# back at that rate. Per account (then the person is e-mailed, and a new password ends the
# pause at once), per client address (shared with reset requests), and reset e-mails per
# address asked for.
LOGIN_RATE_ACCOUNT = env.str("LOGIN_RATE_ACCOUNT", default="5/30m")
LOGIN_RATE_ADDRESS = env.str("LOGIN_RATE_ADDRESS", default="30/10m")
PASSWORD_RESET_RATE = env.str("PASSWORD_RESET_RATE", default="3/1h")
# A password reset link works for this long (Django's default is three days).
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=24 * 3600)
# The public sign-up page (/signup/) that makes a new organization and its owner. On by
# default under DEBUG (make run); in production say SIGNUP_OPEN=1 to offer it, or keep it
# closed and make organizations with `manage.py create_org`. Sign-ups per client address:
SIGNUP_OPEN = env.bool("SIGNUP_OPEN", default=DEBUG)
SIGNUP_RATE = env.str("SIGNUP_RATE", default="5/1h")
LOGIN_REDIRECT_URL = "home"  # managers land on the dashboard, attendants on the inbox
LOGOUT_REDIRECT_URL = "login"

# --- Internationalization ---------------------------------------------------
LANGUAGE_CODE = "pt-br"
LANGUAGES = [("pt-br", "Português (Brasil)"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Our own date and time formats per language (config/formats/<lang>/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]
# A language picked before signing in (the login page) is kept a year, not the session;
# a signed-in person's choice is kept on their profile (Membership.language).
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
USE_I18N = True
USE_TZ = True
TIME_ZONE = "America/Sao_Paulo"  # only a fallback: each organization has its own

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=str(VAR_DIR / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Requests above this size are refused with 413 before parsing.
# How long a process reuses an API key it has looked up (with its organization): a revoked
# key, or a change saved by another process, takes effect within these seconds; 0 turns the
# copy off (teams.config_cache.api_key_cached).
API_KEY_CACHE_SECONDS = env.float("API_KEY_CACHE_SECONDS", default=2)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=256 * 1024)

# --- Security (production switches) ----------------------------------------
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HTTP Strict Transport Security: browsers use only HTTPS for this long (0: no header). Start
# small (3600) and raise it to a year (31536000) once HTTPS is known to work everywhere.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Joining the browsers' HSTS preload list is the domain owner's decision, not a default; the
# deploy check's reminder about it (W021) is heard only once that setting is on.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# Content-Security-Policy on every response (django-csp): scripts, styles and everything
# else only from this site's own files, never inline (no 'unsafe-inline'), no plugins, no
# framing. tests/test_security_headers.py walks the pages for inline code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- REST API ---------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["teams.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["teams.authentication.HasOrganization"],
    "DEFAULT_SCHEMA_CLASS": "core.schema.ApiSchema",
    "DEFAULT_PAGINATION_CLASS": "core.api.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["core.api.FastJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.api.LimitedJSONParser"],
    "EXCEPTION_HANDLER": "core.exceptions.exception_handler",
    # 429 with Retry-After past these rates (teams/throttling.py); "" turns one off. Intake
    # (new leads, handoffs) is per API key and far above real traffic: 100/s is 360,000
    # leads an hour, about what two cores can take (docs/benchmarks.md).
    "DEFAULT_THROTTLE_CLASSES": [
        "teams.throttling.ClientAddressThrottle", "teams.throttling.ApiKeyThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "intake": env.str("API_THROTTLE_INTAKE", default="100/s"),
        "api": env.str("API_THROTTLE_KEY", default="20/s"),
        "address": env.str("API_THROTTLE_ADDRESS", default="200/s"),
    },
    # Proxies in front of the app whose X-Forwarded-For is trusted to name the client (0:
    # the peer's own address); throttles key on that address.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )
SPECTACULAR_SETTINGS = {
    "TITLE": "Transbordo API",
    "DESCRIPTION": "Leads in, assigned, and passed on (transbordo) when nobody opens them.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # The contract a generated client can use (core/schema.py): request bodies without the
    # read-only fields, paths without the trailing slash, ids without the "v1_" prefix, and
    # the one error body on every operation.
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "PREPROCESSING_HOOKS": ["core.schema.without_trailing_slash"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums", "core.schema.error_responses",
    ],
    # Choice sets that share a field name with another ("kind") get a name of their own.
    "ENUM_NAME_OVERRIDES": {"SourceKindEnum": "sources.models.Source.Kind"},
    # Swagger UI from our own static files (drf-spectacular-sidecar), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Cache: the throttles' counters ------------------------------------------
# Redis in production (CACHE_URL, or else REDIS_URL), so that every web process counts
# together; one process's memory for the embedded default.
_CACHE_URL = env.str("CACHE_URL", default="") or env.str("REDIS_URL", default="")
CACHES = {
    "default": env.cache_url_config(_CACHE_URL) if _CACHE_URL else {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "transbordo",
    },
}

# --- Celery -------------------------------------------------------------------
# Default broker: kombu's filesystem transport, so a laptop needs no Redis.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    _broker_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# The sweep has a queue of its own, so that a burst of e-mails or webhooks waiting in the
# default queue cannot delay transfers. A worker started without -Q consumes both (one
# worker is enough); in production one small worker takes `-Q sweep` and the others
# `-Q celery` (docker-compose.yml, docs/operations.md).
CELERY_TASK_DEFAULT_QUEUE = "celery"
# "celery" puts the sweep back on the default queue (as before; bench/lateness.py compares).
SWEEP_QUEUE = env.str("SWEEP_QUEUE", default="sweep")
CELERY_TASK_QUEUES = {CELERY_TASK_DEFAULT_QUEUE: {}, SWEEP_QUEUE: {}}
CELERY_TASK_ROUTES = {"leads.tasks.overflow_sweep": {"queue": SWEEP_QUEUE}}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
OVERFLOW_SWEEP_INTERVAL = env.float("OVERFLOW_SWEEP_INTERVAL", default=30.0)
# The waiting queue drains on every event that frees someone; this is the safety net.
QUEUE_DRAIN_INTERVAL = env.float("QUEUE_DRAIN_INTERVAL", default=60.0)
# Seconds between the runs that e-mail attendants the leads that reached them.
NOTIFICATION_INTERVAL = env.float("NOTIFICATION_INTERVAL", default=15.0)
# The inbox's live stream (live/): it checks the person's inbox every LIVE_POLL_SECONDS, closes
# after LIVE_STREAM_SECONDS (under gunicorn's timeout) and the browser reconnects after
# LIVE_RETRY_SECONDS. LIVE_STREAM_SECONDS=0 turns the stream off: the inbox polls.
LIVE_STREAM_SECONDS = env.float("LIVE_STREAM_SECONDS", default=25.0)
LIVE_POLL_SECONDS = env.float("LIVE_POLL_SECONDS", default=1.0)
LIVE_RETRY_SECONDS = env.float("LIVE_RETRY_SECONDS", default=1.0)
# Outbound webhooks (integrations): seconds to wait for a receiver's answer, tries
# before a delivery is given up, and the back-off between tries (exponential, x4 per
# try from the base, full jitter, capped): 8 tries spread over about a day.
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=10.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_RETRY_BASE = env.float("WEBHOOK_RETRY_BASE", default=60.0)
WEBHOOK_RETRY_MAX_DELAY = env.float("WEBHOOK_RETRY_MAX_DELAY", default=12 * 3600.0)
# Seconds between the periodic sends of due deliveries; new ones are also tried at once.
WEBHOOK_DELIVERY_INTERVAL = env.float("WEBHOOK_DELIVERY_INTERVAL", default=5.0)
# How long a worker holds the deliveries it claimed; if it dies, they are sent again
# after this. Longer than the delivery tasks' hard time limit (300 s).
WEBHOOK_LEASE = env.float("WEBHOOK_LEASE", default=360.0)
# Webhook URLs on loopback, private, link-local or reserved addresses are refused
# (SSRF) unless this is on; it follows DEBUG.
WEBHOOK_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", default=DEBUG)
# Days a delivered or failed delivery stays in the log before it is deleted (hourly).
WEBHOOK_RETENTION_DAYS = env.int("WEBHOOK_RETENTION_DAYS", default=30)
# Lead sources (POST /in/<token>): how many submissions each source's log keeps (older
# ones are deleted as new ones arrive), the largest body accepted (413 above), and each
# source's rate limit ("60/m", "5/s"; empty: none), above which it answers 429.
SOURCE_LOG_KEEP = env.int("SOURCE_LOG_KEEP", default=200)
SOURCE_MAX_BODY_BYTES = env.int("SOURCE_MAX_BODY_BYTES", default=64 * 1024)
SOURCE_RATE_LIMIT = env.str("SOURCE_RATE_LIMIT", default="60/m")
# Data exports (ops): hours a finished export's download link works before its file is
# deleted, and where the files go (Django's default storage: MEDIA_ROOT on this disk; with
# several hosts, a shared volume or an object-storage backend in STORAGES["default"]).
EXPORT_LINK_HOURS = env.int("EXPORT_LINK_HOURS", default=24)
# The largest CSV a manager may upload to import leads (imports.services.import_upload).
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=50 * 2**20)
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
# Seconds between the runs that erase concluded leads past their organization's retention
# period (a setting per organization; none by default).
RETENTION_INTERVAL = env.float("RETENTION_INTERVAL", default=24 * 3600.0)
# The one place the periodic schedule is defined.
CELERY_BEAT_SCHEDULE = {
    "overflow-sweep": {
        "task": "leads.tasks.overflow_sweep",
        "schedule": OVERFLOW_SWEEP_INTERVAL,
        # A tick that waited longer than one interval is stale: the next covers it.
        "options": {"expires": OVERFLOW_SWEEP_INTERVAL},
    },
    "queue-drain": {
        "task": "leads.tasks.queue_drain",
        "schedule": QUEUE_DRAIN_INTERVAL,
        "options": {"expires": QUEUE_DRAIN_INTERVAL},
    },
    "idle-sweep": {
        "task": "leads.tasks.idle_sweep",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    "lead-notifications": {
        "task": "leads.tasks.send_notifications",
        "schedule": NOTIFICATION_INTERVAL,
        "options": {"expires": NOTIFICATION_INTERVAL},
    },
    "webhook-deliveries": {
        "task": "integrations.tasks.deliver_due",
        "schedule": WEBHOOK_DELIVERY_INTERVAL,
        "options": {"expires": WEBHOOK_DELIVERY_INTERVAL},
    },
    "webhook-prune": {
        "task": "integrations.tasks.prune_deliveries",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
    "export-prune": {
        "task": "ops.tasks.prune_exports",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
    "retention": {
        "task": "ops.tasks.apply_retention",
        "schedule": RETENTION_INTERVAL,
        "options": {"expires": RETENTION_INTERVAL},
    },
}

# --- Logs, metrics, error reporting (ops) ------------------------------------------
# "text" (default, for people) or "json": one object per line with timestamp, level, logger,
# message, request id, organization id and lead id where known (ops/logging.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("LOG_FORMAT must be text or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "ops.logging.JsonFormatter"},
    },
    "filters": {
        "request_lines": {"()": "ops.logging.RequestLines"},
        "quiet_periodic": {"()": "ops.logging.QuietPeriodicTasks"},
        "redact_secrets": {"()": "ops.logging.RedactSecrets"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT,
                             "filters": ["redact_secrets"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's default handlers would print its records a second time (DEBUG) or mail
        # them: everything goes to the one console handler instead.
        "django": {"handlers": [], "propagate": True},
        # Each request is logged once, by ops.middleware (4xx without a traceback).
        "django.request": {"filters": ["request_lines"]},
        "django.server": {"handlers": [], "propagate": True, "filters": ["request_lines"]},
        # A periodic task that did nothing logs at DEBUG.
        "celery.beat": {"filters": ["quiet_periodic"]},
        "celery.worker.strategy": {"filters": ["quiet_periodic"]},
        "celery.worker.request": {"filters": ["quiet_periodic"]},
        "celery.app.trace": {"filters": ["quiet_periodic"]},
    },
}
# /metrics answers only "Authorization: Bearer <METRICS_TOKEN>" when set; set it in
# production. Unset, it answers anyone (it holds no tenant data).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# A Celery worker serves its own counters on this port (0: off), for worker hosts without a
# web process; needs PROMETHEUS_MULTIPROC_DIR (docs/operations.md).
WORKER_METRICS_PORT = env.int("WORKER_METRICS_PORT", default=0)
# Errors to Sentry when set (Django and Celery), without personal data.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from ops.sentry import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default=""),
        release=env.str("SENTRY_RELEASE", default=""),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

# Outgoing e-mail from one URL (django-environ): smtp+tls://user:password@smtp.example.com:587,
# smtps://… for implicit TLS; the default prints e-mails to the log.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
if env.str("EMAIL_BACKEND", default=""):  # the variable of earlier releases still wins
    EMAIL_BACKEND = env.str("EMAIL_BACKEND")
elif DEBUG and not env.str("EMAIL_URL", default=""):
    # make run: printed as before, and kept for the /dev/outbox/ page (accounts/outbox.py).
    EMAIL_BACKEND = "accounts.outbox.OutboxBackend"
EMAIL_OUTBOX_DIR = VAR_DIR / "outbox"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Transbordo <no-reply@localhost>")
# Links in e-mails point here.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# Test runs flip PostgreSQL/Redis skips into failures with this (see tests/conftest.py).
REQUIRE_SERVICES = env.bool("TRANSBORDO_REQUIRE_SERVICES", default=False)
