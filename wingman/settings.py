"""WingmanMatch Sessions settings, read from the environment.

With no environment at all the project runs on SQLite and the local-memory
cache (DEBUG must then be switched on explicitly, see README). Set
DATABASE_URL and REDIS_URL for PostgreSQL and Redis.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Only ever used with DEBUG on (S105): with DEBUG off the app refuses to start without SECRET_KEY.
    SECRET_KEY = "dev-only-secret-key-not-for-production-use-0123456789abcdef"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "axes",
    "sessions_app",
    "notifications",
]

MIDDLEWARE = [
    # First: gives each request its id and logs it, timing everything below.
    "sessions_app.observability.RequestLogMiddleware",
    # Before anything reads the body: refuses bodies that did not arrive whole (or chunked ones).
    "sessions_app.request_body.WholeBodyMiddleware",
    # Before anything reads X-Forwarded-*: drops them unless a named proxy sent them.
    "sessions_app.proxies.ForwardedHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy (with its scoped exceptions) and Permissions-Policy on every response.
    "wingman.csp.ScopedCSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Django's MessageMiddleware, building its storage only for a request that uses messages.
    "wingman.messages.LazyMessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # A page view that hits a database fault (lock timeout, dropped connection) answers the 503 page.
    "sessions_app.unavailable.DatabaseUnavailableMiddleware",
    # Last: turns a login refused for too many failures into 429 (sessions_app.logins).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "wingman.urls"
WSGI_APPLICATION = "wingman.wsgi.application"

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
                "notifications.context_processors.bell",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------

# Web requests get short PostgreSQL timeouts, so a row lock held too long or
# a runaway query becomes a quick 503 (database_busy, see
# sessions_app/unavailable.py) instead of a worker stuck past gunicorn's
# timeout. They are libpq connection options, sent once per connection, never
# as an extra statement per request. wingman/wsgi.py marks the process as web
# (WINGMAN_PROCESS=web) before this file is read; manage.py (migrate, the
# benchmark, cron commands, runserver) does not, and keeps the server's
# defaults. Whatever DATABASE_URL itself says about the same settings wins.
WEB_PROCESS = os.environ.get("WINGMAN_PROCESS", "") == "web"
DB_LOCK_TIMEOUT_MS = env_int("DB_LOCK_TIMEOUT_MS", 2000)
DB_STATEMENT_TIMEOUT_MS = env_int("DB_STATEMENT_TIMEOUT_MS", 5000)
DB_CONNECT_TIMEOUT = env_int("DB_CONNECT_TIMEOUT", 3)


def with_web_timeouts(options: dict) -> dict:
    """PostgreSQL connection OPTIONS plus the web timeouts (later -c settings override earlier ones)."""
    ours = f"-c lock_timeout={DB_LOCK_TIMEOUT_MS} -c statement_timeout={DB_STATEMENT_TIMEOUT_MS}"
    merged = dict(options)
    merged["options"] = f"{ours} {merged['options']}" if merged.get("options") else ours
    merged.setdefault("connect_timeout", DB_CONNECT_TIMEOUT)
    return merged


# Server-side parameter binding, and psycopg prepares a statement after DB_PREPARE_THRESHOLD runs of it on
# a connection: PostgreSQL then parses and plans it once per connection instead of once per run. Measured
# under write load (bench/results/where-the-time-goes.md): PostgreSQL's CPU per write -43%, and the
# workers' too, since psycopg no longer quotes every value into the SQL text. The plans stay PostgreSQL's
# choice (plan_cache_mode auto); the history list's queries ran as fast or faster prepared. Behind
# PgBouncer in transaction mode, prepared statements need PgBouncer 1.21 or later with
# max_prepared_statements set; DB_PREPARE_THRESHOLD=off switches them off (server-side binding stays).
DB_PREPARE_THRESHOLD = os.environ.get("DB_PREPARE_THRESHOLD", "5").strip().lower()


def with_prepared_statements(options: dict) -> dict:
    merged = {"server_side_binding": True, **options}
    if DB_PREPARE_THRESHOLD in ("off", "none", ""):
        merged["prepare_threshold"] = None
    elif DB_PREPARE_THRESHOLD.isdigit():
        merged["prepare_threshold"] = int(DB_PREPARE_THRESHOLD)
    else:
        raise ImproperlyConfigured(f"DB_PREPARE_THRESHOLD is a number of runs or 'off', not {DB_PREPARE_THRESHOLD!r}")
    return merged


DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
            # No `SELECT 1` before each request's first query: it was a fifth of a session read's time.
            # A connection that died while idle fails that one request with a 503 and Retry-After
            # (sessions_app/unavailable.py) and is replaced; the next request gets a fresh one.
            conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", False),
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["OPTIONS"] = with_prepared_statements(DATABASES["default"].get("OPTIONS", {}))
        if WEB_PROCESS:
            DATABASES["default"]["OPTIONS"] = with_web_timeouts(DATABASES["default"]["OPTIONS"])
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {"timeout": 20},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "wingman"),
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                # A dead Redis must slow reads down, never break them.
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.25,
                "SOCKET_TIMEOUT": 0.25,
            },
        }
    }
    DJANGO_REDIS_IGNORE_EXCEPTIONS = True
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "wingman",
        }
    }

# Serve session and user reads from Redis copies guarded by generations (sessions_app/freshness.py);
# only with a cache every process shares.
FRESHNESS_MARKERS = bool(REDIS_URL)

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Auth, i18n -----------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not a rule on the password: a saved new password revokes the user's refresh tokens.
    {"NAME": "sessions_app.passwords.RevokeTokensOnPasswordChange"},
]
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked account or address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "sessions_app.backends.ProfileModelBackend",
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Failed-login limits (django-axes, sessions_app/logins.py): a cool-off, not a
# permanent lock; counted in the database, so they hold with Redis down.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(seconds=env_int("LOGIN_COOLOFF_SECONDS", 15 * 60))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own
AXES_CLIENT_IP_CALLABLE = "sessions_app.proxies.client_ip"
AXES_LOCKOUT_CALLABLE = "sessions_app.logins.lockout_response"
# Attempts during a lock do not prolong it: it ends one cool-off after the failure that caused it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or not env_bool("STATIC_MANIFEST", True)
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Production safeguards: on whenever DEBUG is off, unless switched off --

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Health probes (load balancer, orchestrator) call the app server itself over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# The reverse proxies (addresses or networks) whose X-Forwarded-* headers are
# believed; gunicorn.conf.py reads the same variable. Empty: nobody's are, the
# client is REMOTE_ADDR and the scheme is what the server saw.
FORWARDED_ALLOW_IPS = env_list("FORWARDED_ALLOW_IPS", "")
if FORWARDED_ALLOW_IPS:
    # Only ever read from a named proxy: sessions_app.proxies drops it from anyone else.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Content-Security-Policy and Permissions-Policy ----------------------
#
# Strict: everything from this origin only, no inline <script> or <style>, no
# style="" attributes, no eval, no plugins, not framed, forms post only here.
# The templates keep their scripts and styles in static/, and base.html tells
# htmx not to inject its indicator <style> (<meta name="htmx-config">).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "manifest-src": [SELF],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Exceptions, each for the HTML pages under one path prefix only (the first
# that matches wins; wingman/csp.py). The participant pages and the admin
# (Django 5.2's has no inline script or style) need none, and the JSON answers
# under /api/ keep the strict policy. tests/browser/test_content_security_policy.py
# shows each of these pages working with no violation.
CSP_PATH_EXCEPTIONS = {
    # Swagger UI draws its icons as data: SVG images (from its CSS and its script).
    "/api/docs/": {"img-src": ["data:"]},
    # The browsable API: DRF's page and form templates lay out with style=""
    # attributes. Attributes only: no <style> element, no script.
    "/api/": {"style-src-attr": [UNSAFE_INLINE]},
}

# Browser features nothing here uses, switched off for the page and any frame.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer", "autoplay", "browsing-topics", "camera", "display-capture",
        "encrypted-media", "geolocation", "gyroscope", "hid", "idle-detection", "magnetometer", "microphone",
        "midi", "payment", "publickey-credentials-get", "screen-wake-lock", "serial", "usb", "xr-spatial-tracking",
    )
}

# Requests larger than this are refused before they reach a view.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 256 * 1024)

# Development-only: lets API clients name a user with X-Test-User-ID.
# It can never be switched on while DEBUG is off.
WINGMAN_ALLOW_TEST_USER_HEADER = DEBUG and env_bool("WINGMAN_ALLOW_TEST_USER_HEADER", False)

# --- Django REST Framework ------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "sessions_app.api.authentication.ProfileJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        # Does nothing unless WINGMAN_ALLOW_TEST_USER_HEADER (never with DEBUG off).
        "sessions_app.api.authentication.TestUserHeaderAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["sessions_app.api.parsers.StrictJSONParser"],  # JSON, no member named twice
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "sessions_app.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "sessions_app.api.problems.exception_handler",
    # Scoped limits, counted in the default cache (Redis); rates like "30/min".
    "DEFAULT_THROTTLE_CLASSES": ["sessions_app.api.throttling.ActionScopedRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "confirm": os.environ.get("THROTTLE_CONFIRM", "30/min"),
        "notes": os.environ.get("THROTTLE_NOTES", "120/min"),
        "token": os.environ.get("THROTTLE_TOKEN", "20/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "URL_FORMAT_OVERRIDE": None,  # the Accept header chooses; no ?format= parameter
}

# A refresh token works once: each refresh returns a new one and blacklists the
# used one; a password change revokes them all (sessions_app/passwords.py).
# Tokens also carry a digest of the password hash, so access tokens (and any
# refreshed from an old token) stop working the moment the password changes.
SIMPLE_JWT = {
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "CHECK_REVOKE_TOKEN": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "WingmanMatch Sessions API",
    "DESCRIPTION": (
        "Sessions of matched wingman buddies. Errors are RFC 9457 application/problem+json with a stable `code`. "
        "Authenticate with a JWT bearer token (POST /api/auth/token/) or the browser session (with CSRF)."
    ),
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "SessionStatusEnum": "sessions_app.models.SessionStatus",
        "DifficultyEnum": "sessions_app.models.Difficulty",
    },
    "AUTHENTICATION_WHITELIST": [
        "sessions_app.api.authentication.ProfileJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
}

# --- Notifications: e-mail, the outbox sweep, Celery ----------------------

# The address links in e-mails start with (no trailing slash).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "WingmanMatch <sessions@wingmanmatch.example>")
# No mail server configured: mails are printed on the worker's console.
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
# Seconds to wait before each retry while the mail server refuses; after the last one the row is failed.
NOTIFICATIONS_RETRY_BACKOFF = [int(s) for s in env_list("NOTIFICATIONS_RETRY_BACKOFF", "60,300,1800,7200")]
# A row claimed longer ago than this without a result becomes "unknown" (never resent).
NOTIFICATIONS_LEASE_SECONDS = env_int("NOTIFICATIONS_LEASE_SECONDS", 600)
NOTIFICATIONS_EVENT_TTL_DAYS = env_int("NOTIFICATIONS_EVENT_TTL_DAYS", 7)
NOTIFICATIONS_BATCH = env_int("NOTIFICATIONS_BATCH", 200)
# Notifications due longer ago than this, delivered (or given up) and read or never shown in the inbox, are
# deleted by the daily purge (notifications.services.notifications_purge_old).
NOTIFICATIONS_KEEP_DAYS = env_int("NOTIFICATIONS_KEEP_DAYS", 90)
# How often the Celery beat schedule runs the sweep.
NOTIFICATIONS_SWEEP_SECONDS = env_int("NOTIFICATIONS_SWEEP_SECONDS", 10)
# Redis when REDIS_URL is set; otherwise a folder on this machine (one host only, see README).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
CELERY_BROKER_FOLDER = os.environ.get("CELERY_BROKER_FOLDER", str(BASE_DIR / ".celery-broker"))
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": CELERY_BROKER_FOLDER, "data_folder_out": CELERY_BROKER_FOLDER,
        "control_folder": str(Path(CELERY_BROKER_FOLDER) / "control"),
    }
CELERY_BEAT_SCHEDULE_FILENAME = os.environ.get("CELERY_BEAT_SCHEDULE_FILENAME",
                                               str(Path(CELERY_BROKER_FOLDER) / "beat-schedule"))
CELERY_BEAT_SCHEDULE = {
    "deliver-notifications": {
        "task": "notifications.deliver_due",
        "schedule": timedelta(seconds=NOTIFICATIONS_SWEEP_SECONDS),
        # A sweep not started within one interval is dropped: the next one does the same work.
        "options": {"expires": NOTIFICATIONS_SWEEP_SECONDS},
    },
    "purge-notifications": {
        "task": "notifications.purge_old",
        "schedule": timedelta(days=1),
        "options": {"expires": 3600},
    },
    "flush-expired-tokens": {
        "task": "sessions.flush_expired_tokens",
        "schedule": timedelta(days=1),
        "options": {"expires": 3600},
    },
    # Idempotency-Key records are kept 24 hours; the hourly sweep keeps the table at about one day of them.
    "purge-idempotency-records": {
        "task": "sessions.purge_idempotency_records",
        "schedule": timedelta(hours=1),
        "options": {"expires": 3600},
    },
}
CELERY_TASK_IGNORE_RESULT = True
# The queue beat sends sweeps to and workers read (tests use one of their own).
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "wingman")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Logging --------------------------------------------------------------

# One line per record on stderr, JSON by default (LOG_FORMAT=text for a
# terminal), each with the id of the request it belongs to. LOG_LEVEL is read as gunicorn reads it (any case),
# so one variable sets both.
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_LEVEL = os.environ.get("LOG_LEVEL", "").strip().upper() or "INFO"
if LOG_LEVEL not in LOG_LEVELS:
    raise ImproperlyConfigured(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)} (in any case), "
                               f"not {os.environ['LOG_LEVEL']!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "sessions_app.observability.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "sessions_app.observability.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "text" if os.environ.get("LOG_FORMAT", "json") == "text" else "json",
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # The middleware logs every request; django.server's own line would repeat it.
    "loggers": {"django.server": {"handlers": ["console"], "level": "WARNING", "propagate": False}},
}
