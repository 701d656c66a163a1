"""Settings, read from the environment.

With nothing set you get the embedded default: a SQLite file in the project folder,
Celery tasks run in-process and e-mail printed to the console. With ``DEBUG=0`` the
production variables are required and start-up stops with a message naming any missing one.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=None):
    value = os.environ.get(name)
    return default if value in (None, "") else value


def env_bool(name, default=False):
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def env_list(name, default=""):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
#: ``make run`` (OCOP_DEMO=1): the embedded demo as its visitors see it, with DEBUG off
#: (the project's own 404/500 pages, never Django's debug page listing the URL patterns)
#: but without the production variables; static files are served by whitenoise straight
#: from the apps' folders (no collectstatic), errors still logged on the console.
DEMO = env_bool("OCOP_DEMO", False)
if DEMO:
    DEBUG = False

#: Variables that production (DEBUG=0) cannot start without.
PRODUCTION_REQUIRED = (
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DEFAULT_FROM_EMAIL",
)
if not DEBUG and not DEMO:
    missing = [name for name in PRODUCTION_REQUIRED if env(name) is None]
    if missing:
        raise ImproperlyConfigured(
            "Production settings (DEBUG=0) need these environment variables: "
            + ", ".join(missing)
            + ". Thiếu biến môi trường bắt buộc: "
            + ", ".join(missing)
        )

SECRET_KEY = env("SECRET_KEY", "django-insecure-ocop-embedded-default-do-not-use-in-production")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
if DEMO:
    # the host of `make run RUN_ADDR=host:port` (OCOP_RUN_ADDR); 0.0.0.0 / :: serve any name
    _run_host = env("OCOP_RUN_ADDR", "127.0.0.1:8000").rpartition(":")[0].strip("[]")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver") + (
        ["*"] if _run_host in ("0.0.0.0", "::") else [_run_host] if _run_host else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_htmx",
    "django_celery_beat",
    "ocop.accounts",
    "ocop.regions",
    "ocop.audit",
    "ocop.documents",
    "ocop.notices",
    "ocop.web",
    "scoring",
    "dossiers",
    "councils",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Cache-Control: no-store on every response to a logged-in user (ocop/web/middleware.py)
    "ocop.web.middleware.NoStoreForAuthenticatedMiddleware",
    # NUL / lone surrogates refused, text NFC: query strings and page forms (ocop/input.py)
    "ocop.input.InputBoundaryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "ocop.audit.middleware.RequestContextMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ocop.urls"
WSGI_APPLICATION = "ocop.wsgi.application"
ASGI_APPLICATION = "ocop.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ocop.web.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(env("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default: writers wait for each other instead of failing with
    # "database is locked" when several requests save at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20})
# The scoresheet's reads run as prepared statements on PostgreSQL (ocop/rows.py); off
# (0) behind a connection pooler in transaction mode (docs/performance.md).
OCOP_PREPARED_STATEMENTS = env_bool("OCOP_PREPARED_STATEMENTS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Redis: Celery broker and cache -----------------------------------------------------
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's Redis cache that answers "miss" while Redis is down (ocop/cache.py).
            "BACKEND": "ocop.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "ocop",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Asia/Ho_Chi_Minh"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Background jobs (docs/background-jobs.md): a message is acknowledged only once its task
# has run, and put back when the worker running it dies; a worker reserves one message at a
# time. Redis hands an unacknowledged message out again after the visibility timeout, which
# is longer than any task's time limit (councils.tasks.TIME_LIMIT). The beat sweep wakes
# up jobs whose status row is left behind (lost message, dead worker).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 15 * 60}
CELERY_BEAT_SCHEDULE = {
    "councils-sweep-minutes": {
        "task": "councils.sweep_minutes",
        "schedule": float(env("OCOP_SWEEP_SECONDS", "60")),
    },
    "dossiers-sweep-decisions": {
        "task": "dossiers.sweep_decision_documents",
        "schedule": float(env("OCOP_SWEEP_SECONDS", "60")),
    },
    "dossiers-sweep-register-imports": {
        "task": "dossiers.sweep_register_imports",
        "schedule": float(env("OCOP_SWEEP_SECONDS", "60")),
    },
}
# The schedule lives in the database (django-celery-beat), editable in the admin; the
# entries above are copied into it when beat starts. The daily expiry check is a row
# written by ocop/notices/migrations (docs/notifications.md), never overwritten.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE["notices-sweep-emails"] = {
    "task": "notices.send_pending_emails",
    "schedule": float(env("OCOP_SWEEP_SECONDS", "60")),
}
#: The address printed in the certificates' QR codes (the public verification page), e.g.
#: "https://ocop.cantho.gov.vn". Unset: the first CSRF_TRUSTED_ORIGINS entry (required in
#: production), else the development server's address.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL") or next(iter(CSRF_TRUSTED_ORIGINS),
                                                  "http://127.0.0.1:8000")
#: Workers woken for an issued decision's certificates (they share the work row by row).
DECISION_RENDER_PARALLELISM = int(env("OCOP_DECISION_RENDER_PARALLELISM", "2"))

# --- Auth --------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend reading the user's roles with the user (ocop/accounts/backends.py)
    "ocop.accounts.backends.UserWithRolesBackend",
]
# The session read from the cache (Redis), the database behind it: no query per request
# for it (docs/performance.md); while Redis is down, from the database.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

#: Reverse proxies in front of the application that append to X-Forwarded-For (nginx with
#: ``proxy_add_x_forwarded_for``): the client's address is the n-th from the right. 0 (the
#: default) ignores the header: REMOTE_ADDR is the client. One setting for django-axes, the
#: DRF throttles and the audit log (ocop.audit.context.client_ip).
TRUSTED_PROXY_COUNT = int(env("TRUSTED_PROXY_COUNT", "0"))

# Throttle repeated login failures (django-axes, ocop/accounts/throttle.py): 5 failures lock
# a username from one address, 20 lock the address whatever the usernames, for 15 minutes
# after the last failure; attempts during the lock are refused without being counted.
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "5"))
AXES_IP_FAILURE_LIMIT = int(env("AXES_IP_FAILURE_LIMIT", "20"))
AXES_COOLOFF_TIME = float(env("AXES_COOLOFF_MINUTES", "15")) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "ocop.accounts.throttle.LoginAttemptHandler"
AXES_LOCKOUT_CALLABLE = "ocop.accounts.throttle.lockout_response"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "ocop.audit.context.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLED = env_bool("AXES_ENABLED", True)
# `make run` prints little: no django-axes banner at every start (DEMO above)
AXES_VERBOSE = env_bool("AXES_VERBOSE", not DEMO)

# --- I18n --------------------------------------------------------------------------------
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

# --- Static and media ----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))

if env("AWS_STORAGE_BUCKET_NAME"):
    _media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env("AWS_S3_ENDPOINT_URL"),
            "default_acl": None,
            "querystring_auth": True,
        },
    }
else:
    _media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _media_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or DEMO
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
if DEMO:
    # whitenoise serves the apps' static folders as found (no staticfiles/ to collect)
    WHITENOISE_USE_FINDERS = True
    STATIC_ROOT = None

# --- E-mail --------------------------------------------------------------------------------
if env("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env("EMAIL_HOST", "localhost")
    EMAIL_PORT = int(env("EMAIL_PORT", "25"))
    EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "ocop@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "ocop.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "ocop.api.exception_handler",
    # the input boundary (ocop/input.py): NUL / lone surrogates refused, text NFC, JSON depth
    "DEFAULT_PARSER_CLASSES": [
        "ocop.input.JSONParser",
        "ocop.input.FormParser",
        "ocop.input.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_RATES": {"token": "20/minute"},
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "OCOP API",
    "DESCRIPTION": "API of the OCOP evaluation system",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # choice sets of fields sharing a name ("state") in several components
    "ENUM_NAME_OVERRIDES": {
        "DossierStateEnum": "dossiers.models.DossierState",
        "InspectionStateEnum": "dossiers.models.InspectionState",
        "RevocationStateEnum": "dossiers.models.RevocationState",
    },
}

# --- Security (production) -------------------------------------------------------------------
if not DEBUG and not DEMO:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- Uploads ---------------------------------------------------------------------------------
OCOP_UPLOAD_MAX_BYTES = int(env("OCOP_UPLOAD_MAX_MB", "50")) * 1024 * 1024
#: Dotted path of a callable ``(uploaded_file) -> None`` that raises to refuse a file
#: (virus scanner hook, e.g. a ClamAV client); empty = no scanning.
OCOP_UPLOAD_SCANNER = env("OCOP_UPLOAD_SCANNER") or None
#: The first handler stops reading a request as soon as one file passes
#: OCOP_UPLOAD_MAX_BYTES (the refusal is shown as usual); the reverse proxy limits the whole
#: body first (README, "Production deployment"). Office-file bounds, image pixel limit:
#: dossiers/uploads.py (OCOP_UPLOAD_ZIP_MAX_ENTRIES / _INFLATED_BYTES / _RATIO, ..._PIXELS).
FILE_UPLOAD_HANDLERS = [
    "dossiers.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    # WeasyPrint logs every rendering step at INFO
    "loggers": {"weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}
if DEMO:
    # the in-process broker (memory://) has no host name: kombu's warning says only that
    LOGGING["loggers"]["kombu.connection"] = {"level": "ERROR"}

# --- Public verification ---------------------------------------------------------------------
# The page of a certificate's QR code, /xac-minh/<code>/ and <code>.json, no login
# (dossiers/public_views.py, docs/verification.md).
#: Requests per client address (ocop.audit.context.client_ip; IPv6 per /64), page and JSON
#: counted together, in django-ratelimit's notation ("60/m"); empty: no limit. Over it: 429.
OCOP_VERIFICATION_RATE = env("OCOP_VERIFICATION_RATE", "60/m")
#: Seconds a browser or proxy may keep an answer (Cache-Control: public, max-age).
OCOP_VERIFICATION_MAX_AGE = int(env("OCOP_VERIFICATION_MAX_AGE", "300"))
#: Seconds the server keeps the facts of one code in the cache. A revocation shows after at
#: most this plus OCOP_VERIFICATION_MAX_AGE (6 minutes by default).
OCOP_VERIFICATION_CACHE_SECONDS = int(env("OCOP_VERIFICATION_CACHE_SECONDS", "60"))
# django-ratelimit counts in the default cache. While Redis is down (ocop/cache.py) it cannot
# count: let requests through (as the API throttle does) instead of refusing everyone.
RATELIMIT_FAIL_OPEN = True
