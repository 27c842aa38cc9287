"""Settings, all read from environment variables (12-factor).

The defaults are the embedded mode `make run` uses: SQLite in WAL mode and a
filesystem broker under ./var, so a fresh machine needs no external service.
Production and CI set DATABASE_URL, CELERY_BROKER_URL and CACHE_URL.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("REVIEWGUARD_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()


def envsecret(name: str) -> str:
    """A secret from ``NAME``, else from the file named by ``NAME_FILE``, else
    from ``VAR_DIR/name`` (the random local key `make keys` writes).

    Empty when none is there. A ``NAME_FILE`` that cannot be read is an error.
    """
    value = env.str(name, default="")
    if value:
        return value
    path = env.str(f"{name}_FILE", default="")
    if not path:
        # The random local key `make keys` (and `make run`) writes, if any.
        local = VAR_DIR / name.lower()
        path = str(local) if local.is_file() else ""
    if not path:
        return ""
    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        raise ImproperlyConfigured(f"{name}_FILE={path} cannot be read: {exc}") from exc


DEBUG = env.bool("DEBUG", default=False)
# Known keys that must never protect real data: the built-in local defaults of
# earlier versions. With DEBUG on, an unset key falls back to them (local only).
_BUILT_IN_KEYS = {
    "SECRET_KEY": "insecure-local-only-reviewguard-secret-key-change-me",
    "PII_HASH_KEY": "insecure-local-only-pii-key-change-me",
}


def _required_secret(name: str) -> str:
    """With DEBUG off, refuse to start on a missing, built-in or short key."""
    value = envsecret(name)
    if DEBUG:
        return value or _BUILT_IN_KEYS[name]
    if not value or value == _BUILT_IN_KEYS[name]:
        raise ImproperlyConfigured(
            f"{name} (or {name}_FILE) must be set to a secret of your own when DEBUG is off; "
            "for local use, `make keys` writes random ones under var/."
        )
    if len(value) < 50:  # Django's own deploy check asks as much of SECRET_KEY
        raise ImproperlyConfigured(f"{name} must be at least 50 characters long.")
    return value


SECRET_KEY = _required_secret("SECRET_KEY")
# Reviewer e-mails, IPs, device ids and booking references are stored only as
# HMAC-SHA256 under this key. It is global (not per partner) on purpose: the
# same e-mail seen by two partners hashes the same, so rings link across them.
# Anyone holding it can test guesses (an IPv4 hash falls in seconds), so it is
# a secret as strong as SECRET_KEY.
PII_HASH_KEY = _required_secret("PII_HASH_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Transport security -----------------------------------------------------------
# One switch for a deployment served over HTTPS only (behind TLS): HSTS, secure
# cookies, redirect of plain HTTP. Off by default so `make run` works on
# http://127.0.0.1. `manage.py check --deploy` is clean with it on.
SECURE_HTTPS = env.bool("SECURE_HTTPS", default=False)
# The client address and scheme come from a proxy only when one is named here
# (comma-separated IPs of the proxies in front of us). Empty: REMOTE_ADDR is
# the client, and X-Forwarded-* headers are ignored (anyone can forge them).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
if TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_SSL_REDIRECT = SECURE_HTTPS and env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]  # probes speak plain HTTP
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000) if SECURE_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
# Every page (apps/core/security.py); empty turns it off.
CONTENT_SECURITY_POLICY = env.str(
    "CONTENT_SECURITY_POLICY",
    default="default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'",
)
CONTENT_SECURITY_POLICY_EXEMPT = ["/api/v1/docs/"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # ReDoc and Swagger UI from our static files, no CDN
    "apps.core",
    "apps.partners",
    "apps.establishments",
    "apps.reviews",
    "apps.detection",
    "apps.cases",
    "apps.reports",
]

MIDDLEWARE = [
    "apps.core.observability.RequestIdMiddleware",
    "apps.core.observability.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "apps.core.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "reviewguard.urls"
WSGI_APPLICATION = "reviewguard.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'reviewguard.sqlite3'}"
    ),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets the web process and the worker read while the other writes;
    # a generous busy timeout absorbs the short write locks.
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

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://reviewguard")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # The same cache, reusing its Redis client objects (apps/core/cache.py).
    CACHES["default"]["BACKEND"] = "apps.core.cache.RedisCache"
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    # An unreachable cache must fail fast (the throttle then fails open), not
    # hang a request on the operating system's connect timeout.
    CACHES["default"].setdefault("OPTIONS", {}).update(
        {"socket_connect_timeout": 1.0, "socket_timeout": 1.0}
    )
# While the database (or the cache a page needs) is unreachable, requests are
# answered 503 with this Retry-After, and served again as soon as it is back.
OUTAGE_RETRY_AFTER_SECONDS = env.int("OUTAGE_RETRY_AFTER_SECONDS", default=10)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on a missing root
# Evidence files live outside the web root and are served only through views
# that check who is asking.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))

# Large enough for a batch of 1,000 reviews with long texts, small enough to
# refuse abuse early (answered 413).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=16 * 1024 * 1024)
# Evidence files: at most this many bytes each (and REPORT_EVIDENCE_MAX_FILES
# files). Uploads over the cap are refused while they stream in, before they
# reach the disk (apps/reports/uploads.py).
REPORT_EVIDENCE_MAX_BYTES = env.int("REPORT_EVIDENCE_MAX_BYTES", default=10 * 1024 * 1024)
REPORT_EVIDENCE_MAX_FILES = env.int("REPORT_EVIDENCE_MAX_FILES", default=10)
FILE_UPLOAD_HANDLERS = [
    "apps.reports.uploads.CappedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Refused API keys per client IP and window before every call from that IP
# answers 429 (with Retry-After) until the window ends.
API_BAD_KEY_LIMIT = env.int("API_BAD_KEY_LIMIT", default=100)
API_BAD_KEY_WINDOW_SECONDS = env.int("API_BAD_KEY_WINDOW_SECONDS", default=60)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["apps.partners.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["apps.partners.authentication.IsPartner"],
    "DEFAULT_THROTTLE_CLASSES": ["apps.partners.throttling.PartnerRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"partner": env.str("API_RATE_LIMIT", default="60000/min")},
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.CreatedCursorPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "apps.core.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "ReviewGuard API",
    "DESCRIPTION": (
        "Partner API v1: push establishments and reviews, read verdicts and cases. "
        "Authenticate with `Authorization: Api-Key <key>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- E-mail and sign-in ---------------------------------------------------------
# Owners get e-mail: invitations, password resets, notifications. Locally it is
# printed to the console (or written to EMAIL_FILE_PATH, one file per message);
# USE_SMTP turns real delivery on, and then EMAIL_HOST is required.
USE_SMTP = env.bool("USE_SMTP", default=False)
if USE_SMTP:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env.str("EMAIL_HOST")
    EMAIL_PORT = env.int("EMAIL_PORT", default=587)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
    EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
    EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
elif env.str("EMAIL_FILE_PATH", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH")
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="ReviewGuard <no-reply@reviewguard.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Links in e-mails are absolute: the address owners reach this service at.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
# An owner invitation link works once, within this many hours.
OWNER_INVITATION_TTL_HOURS = env.int("OWNER_INVITATION_TTL_HOURS", default=72)
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT_SECONDS", default=3 * 3600)
# Owners sign in with their e-mail address or their username.
AUTHENTICATION_BACKENDS = ["apps.core.backends.EmailOrUsernameBackend"]
LOGIN_URL = "portal:login"

# --- Detection -----------------------------------------------------------------
# A review whose risk reaches its partner's threshold (or this default) is held
# for a moderator instead of published. Nothing is ever removed automatically.
REVIEW_HOLD_THRESHOLD = env.float("REVIEW_HOLD_THRESHOLD", default=0.7)
# Reviews still pending this long after they were last enqueued are re-enqueued
# by the sweep, so a message lost while the broker was down loses nothing.
PENDING_SWEEP_AFTER_SECONDS = env.int("PENDING_SWEEP_AFTER_SECONDS", default=60)
# 1,000: per-review cost fell by a third from 500 (bench/RESULTS.md, issue 14).
SCORING_BATCH_SIZE = env.int("SCORING_BATCH_SIZE", default=1000)
# A web process gathers the scoring publishes of this many milliseconds into
# one task (apps/detection/outbox.py; 0: one publish per request). 100 rather
# than 20: at 100 single POSTs/s over two processes, 20 ms gathered about one
# request per publish; 100 ms took 0.7 ms of web CPU and 1-2 ms of p50 off each
# POST in two A/B pairs (bench/RESULTS.md, issue 14), for at most 0.1 s more
# before scoring starts.
SCORING_PUBLISH_WINDOW_MS = env.int("SCORING_PUBLISH_WINDOW_MS", default=100)
# Backfilled (historical) reviews are scored in larger batches on the batch queue.
HISTORICAL_BATCH_SIZE = env.int("HISTORICAL_BATCH_SIZE", default=2000)
# A scoring batch fills itself with reviews waiting at least this long (a backlog),
# up to SCORING_FILL_SIZE: a batch's neighbourhood costs about the same for 1,000
# reviews as for 3,000, which halved the per-review cost at 1M reviews of history
# (bench/RESULTS.md, issue 14).
# 0.5 s rather than 2: under 500 reviews/s of mixed load, verdict p95 8.3 -> 4.6 s
# (bench/RESULTS.md, issue 14); fresh reviews are still left to their own messages.
SCORING_FILL_AFTER_SECONDS = env.float("SCORING_FILL_AFTER_SECONDS", default=0.5)
SCORING_FILL_SIZE = env.int("SCORING_FILL_SIZE", default=3000)
# Review rows a scoring process keeps from one batch's neighbourhood to the next
# (apps/detection/rowcache.py; 0 keeps none): consecutive batches share most of
# them. About 1 kB a row with its text.
SCORING_ROW_CACHE_ROWS = env.int("SCORING_ROW_CACHE_ROWS", default=60_000)
# A review whose scoring failed this many times (for a reason other than the
# database) is dead-lettered: shown in the admin, no longer swept.
SCORING_MAX_ATTEMPTS = env.int("SCORING_MAX_ATTEMPTS", default=5)
# An establishment's attack alert ends when no attack review was detected for this long.
ALERT_QUIET_HOURS = env.float("ALERT_QUIET_HOURS", default=24.0)

# --- Celery ---------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
    }
# Queues per workload, named after CELERY_QUEUE (the default queue, which keeps
# anything unrouted): scoring must never wait behind a batch run or a slow
# webhook receiver, so each has its own queue and may have its own workers.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="reviewguard")
CELERY_QUEUES_BY_WORKLOAD = {
    workload: f"{CELERY_TASK_DEFAULT_QUEUE}.{workload}"
    for workload in ("scoring", "batch", "reports", "webhooks")
}
CELERY_TASK_ROUTES = {
    "scoring.*": {"queue": CELERY_QUEUES_BY_WORKLOAD["scoring"]},
    "batch.*": {"queue": CELERY_QUEUES_BY_WORKLOAD["batch"]},
    "reports.*": {"queue": CELERY_QUEUES_BY_WORKLOAD["reports"]},
    "webhooks.*": {"queue": CELERY_QUEUES_BY_WORKLOAD["webhooks"]},
}
# A worker started without -Q consumes every queue declared here.
CELERY_TASK_QUEUES = tuple(
    Queue(name) for name in (CELERY_TASK_DEFAULT_QUEUE, *CELERY_QUEUES_BY_WORKLOAD.values())
)
# A scoring message older than this is dropped: its reviews are still pending
# and the sweep enqueues them again, fresh.
SCORING_TASK_EXPIRES_SECONDS = env.int("SCORING_TASK_EXPIRES_SECONDS", default=3600)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Workers run at this CPU niceness (0-19; 0 leaves it alone): where the web
# server and a worker share cores (`make run`, one machine), requests are served
# first and scoring takes the rest of the CPU; on a machine of its own a worker
# loses nothing. bench/RESULTS.md, issue 11 ("worker priority").
WORKER_NICENESS = env.int("WORKER_NICENESS", default=10)
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must not hang an API request when the broker is down: a couple of
# quick retries, then the sweep takes over.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": env.int("CELERY_PUBLISH_MAX_RETRIES", default=2),
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BEAT_SCHEDULE = {
    "sweep-pending-reviews": {
        "task": "scoring.sweep_pending",
        "schedule": env.float("SWEEP_INTERVAL_SECONDS", default=30.0),
    },
    "link-unlinked-threat-reports": {
        "task": "reports.sweep_unlinked",
        "schedule": 120.0,
    },
    "retry-due-webhooks": {
        "task": "webhooks.sweep_due",
        "schedule": 60.0,
    },
    # Reconciliation: what the live path cannot see (slow and camouflaged rings,
    # the anomaly ensemble), over what is new since the last run plus its lookback.
    "batch-detection": {
        "task": "batch.run_detection",
        "schedule": env.float("BATCH_DETECTION_INTERVAL_SECONDS", default=300.0),
    },
    # Learn from moderators' decisions (adopted only when not worse).
    "calibrate": {
        "task": "batch.calibrate",
        "schedule": env.float("CALIBRATION_INTERVAL_SECONDS", default=86400.0),
    },
    "end-quiet-alerts": {
        "task": "scoring.end_quiet_alerts",
        "schedule": 300.0,
    },
    # Vacuum and analyse the tables that autovacuum would, when the server's is off
    # (apps/core/maintenance.py); does nothing while it is on.
    "maintain-tables": {
        "task": "batch.maintain_tables",
        "schedule": env.float("TABLE_MAINTENANCE_INTERVAL_SECONDS", default=60.0),
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Total wall-clock deadline of one delivery attempt (connect, TLS, send, answer):
# a receiver that answers slowly, or drips bytes, is cut off at this point.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# Seconds to wait after each failed attempt (capped exponential, +0-10% jitter):
# 13 attempts over about 26 hours by default; then the delivery is `failed`,
# visible in the admin, and can be re-driven (admin action, webhook_redeliver).
WEBHOOK_RETRY_SCHEDULE = env.list(
    "WEBHOOK_RETRY_SCHEDULE", cast=float,
    default=[10, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 21600, 21600, 21600],
)
# Local development only: allow http:// and loopback/private/link-local hosts.
WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=DEBUG)

# One JSON object a line with the request id (LOG_FORMAT=plain for a terminal).
# The id comes from X-Request-ID (or is made) and follows the request into the
# Celery tasks it causes (apps/core/observability.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "apps.core.observability.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"},
        "json": {"()": "apps.core.observability.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# /metrics answers a staff user, or `Authorization: Bearer <METRICS_TOKEN>`.
METRICS_TOKEN = envsecret("METRICS_TOKEN")
