"""Settings for the dispatcher, read from ``DISPATCHER_*`` environment variables.

With nothing set the service runs on one machine: SQLite under the data
directory and the django-q2 ORM broker. The README lists every variable.
"""

from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url

from dispatcher_site.env import (
    env_bool,
    env_choice,
    env_file_load,
    env_float,
    env_host_port,
    env_int,
    env_list,
    env_mapping,
    env_origins,
    env_secret,
    env_str,
    env_url,
)
from dispatcher_site.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
# A checkout (manage.py beside the apps) keeps its configuration and data in its own folder; an
# installed package (pip install, the `dispatcher` command) in the folder it is started from.
PROJECT_DIR = BASE_DIR if (BASE_DIR / "manage.py").is_file() else Path.cwd()
# DISPATCHER_ENV_FILE or PROJECT_DIR/.env: the service and every manage.py command read the same.
ENV_FILE = env_file_load(PROJECT_DIR)
DATA_DIR = Path(env_str("DISPATCHER_DATA_DIR", str(PROJECT_DIR / "var"))).resolve()
DATA_DIR_CREATED = not DATA_DIR.exists()
# Private: the database holds users' claims, the products are theirs (created 0700; files 0600).
DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
if DATA_DIR_CREATED:
    (DATA_DIR / ".new-data-dir").touch()  # the first `serve` may print a demo token (dispatcher_site.demo)

SECRET_KEY = env_secret("DISPATCHER_SECRET_KEY", store=DATA_DIR / "secret_key")
TOKEN_SECRET = env_secret("DISPATCHER_TOKEN_SECRET", store=DATA_DIR / "token_secret")
TOKEN_MAX_REFRESH_S = env_int("DISPATCHER_TOKEN_MAX_REFRESH_S", 30 * 24 * 3600, minimum=0)
DEBUG = env_bool("DISPATCHER_DEBUG", False)

BIND = env_host_port("DISPATCHER_BIND", "127.0.0.1:8000")
PUBLIC_URL = env_url("DISPATCHER_PUBLIC_URL", f"http://{BIND}", schemes=("http", "https")).rstrip("/")
ALLOWED_HOSTS = env_list("DISPATCHER_ALLOWED_HOSTS", ("*",))
# Served over HTTPS (behind a proxy that terminates TLS and sets X-Forwarded-Proto): secure
# cookies, HSTS, and plain HTTP redirected, except /healthz (probes on the private network).
HTTPS = env_bool("DISPATCHER_HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 365 * 24 * 3600 if HTTPS else 0
# This host only: whether every subdomain of its domain is HTTPS-only is not the service's to decide.
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"] if HTTPS else []
# Origins whose forms (the admin's) may POST here; the public URL's own is always trusted.
CSRF_TRUSTED_ORIGINS = ["{0.scheme}://{0.netloc}".format(urlsplit(PUBLIC_URL))]
CSRF_TRUSTED_ORIGINS += env_origins("DISPATCHER_CSRF_TRUSTED_ORIGINS")
# Proxies whose X-Forwarded-* headers gunicorn believes (a proxy on another host); gunicorn's default.
FORWARDED_ALLOW_IPS = env_str("DISPATCHER_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# The short-lived demo token `make run` prints: auto (only for a SQLite data directory it created), true, false.
DEMO_TOKEN = env_choice("DISPATCHER_DEMO_TOKEN", "AUTO", choices=("AUTO", "TRUE", "FALSE"))
WEB_WORKERS = env_int("DISPATCHER_WEB_WORKERS", 2, minimum=1)
# Threads per web worker that run Django (requests are read whole before one is taken: dispatcher_site.web).
WEB_THREADS = env_int("DISPATCHER_WEB_THREADS", 8, minimum=1)
# How long a web request waits for the database's write lock (SQLite) before it answers 503.
WEB_WRITE_WAIT_S = env_float("DISPATCHER_WEB_WRITE_WAIT_S", 2.0, minimum=0.1)
# PostgreSQL: how long to wait for a connection before the request answers 503 (libpq's minimum is 2).
DB_CONNECT_TIMEOUT_S = env_int("DISPATCHER_DB_CONNECT_TIMEOUT_S", 2, minimum=1, maximum=60)
RETENTION_DAYS = env_int("DISPATCHER_RETENTION_DAYS", 30, minimum=1)
# How long the signed link to a job's page (in mails and Matrix messages) opens it without a login.
JOB_LINK_MAX_AGE_S = env_int("DISPATCHER_JOB_LINK_MAX_AGE_S", 30 * 24 * 3600, minimum=1)
NB2W_BACKENDS = env_mapping("DISPATCHER_NB2W_BACKENDS")
# The ODA ontology (Turtle): parameter and output types through their class hierarchy
# (instruments.ontology). Empty: the built-in table of terms.
ONTOLOGY_PATH = env_str("DISPATCHER_ONTOLOGY_PATH", "")
# Files sent as parameters (jobs.uploads): the largest one taken, and the roles (besides
# its owner) that may read one, recorded with it when it is stored.
UPLOAD_MAX_MB = env_float("DISPATCHER_UPLOAD_MAX_MB", 50.0, minimum=0.001)
UPLOAD_READER_ROLES = env_list("DISPATCHER_UPLOAD_READER_ROLES", ("job manager",))
UPLOADS_DIR = DATA_DIR / "uploads"
# Every multipart body goes through the size limit first (413 before a big file is read).
FILE_UPLOAD_HANDLERS = [
    "jobs.uploads.UploadSizeLimit",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# gunicorn's access line besides the request log's own (jobs.middleware): off, one line per request.
ACCESS_LOG = env_bool("DISPATCHER_ACCESS_LOG", False)
# The web frontend's form (e.g. https://www.astro.unige.ch/mmoda/): mails and Matrix messages
# link there, re-filled with the job's request (through /resolve-job-url); empty: the job page.
FRONTEND_URL = env_url("DISPATCHER_FRONTEND_URL", schemes=("http", "https")).rstrip("/")
# Origins whose pages may call the protocol endpoints from the browser (CORS); none by default.
CORS_ALLOWED_ORIGINS = env_origins("DISPATCHER_CORS_ORIGINS")
CORS_URLS_REGEX = (
    r"^/(dispatch-data/)?(run_analysis|download_products|api/instr-list|instr-list|api/meta-data|meta-data"
    r"|api/par-names|inspect-state|inspect-user-state|refresh_token|update_token_email_options|report_incident"
    r"|resolve-job-url)$"
)
# Mounts /bench/noop and /bench/queue for bench/run.py; off in every real deployment.
BENCH_ENDPOINTS = env_bool("DISPATCHER_BENCH_ENDPOINTS", False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "dispatcher_site",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "corsheaders",
    "instruments",
    "jobs",
    "notifications",
]

MIDDLEWARE = [
    # First, so that its duration and status cover everything below it.
    "jobs.middleware.RequestLogMiddleware",
    # Database errors anywhere below become a JSON 503; bounded waits for SQLite's write lock.
    "dispatcher_site.outages.DatabaseOutageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before CommonMiddleware: answers the browser's preflight (OPTIONS) for DISPATCHER_CORS_ORIGINS.
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "dispatcher_site.urls"
WSGI_APPLICATION = "dispatcher_site.wsgi.application"
# The protocol's clients must never be redirected (oda-api treats 301 as an error).
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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


def _database() -> dict:
    url = env_url("DISPATCHER_DATABASE_URL", schemes=("postgres", "postgresql", "sqlite"))
    if url:
        # Persistent connections: per-request connects cost ~10 ms on PostgreSQL.
        config = dj_database_url.parse(url, conn_max_age=600, conn_health_checks=True)
        if config["ENGINE"].endswith("sqlite3"):
            config.update(ENGINE="dispatcher_site.sqlite", **_sqlite_options())
        else:
            # An unreachable server costs a request seconds (then a 503), not the kernel's minutes.
            config.setdefault("OPTIONS", {})["connect_timeout"] = DB_CONNECT_TIMEOUT_S
        return config
    return {"ENGINE": "dispatcher_site.sqlite", "NAME": DATA_DIR / "dispatcher.sqlite3", **_sqlite_options()}


def _sqlite_options() -> dict:
    return {
        # Persistent connections: opening one (and its PRAGMAs) cost more than a
        # whole submission; django-q2 also closes expired ones before each broker call.
        "CONN_MAX_AGE": 600,
        "OPTIONS": {
            # WAL lets readers run beside the one writer; IMMEDIATE takes the write
            # lock up front so concurrent writers wait (busy timeout) instead of
            # failing half-way through a transaction.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
        },
        # Workers in other processes must see the test database: keep it in a file.
        "TEST": {"NAME": str(DATA_DIR / "test.sqlite3")},
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_url("DISPATCHER_REDIS_URL", schemes=("redis", "rediss", "unix"))
TASK_TIMEOUT_S = env_int("DISPATCHER_TASK_TIMEOUT_S", 300, minimum=5)
Q_CLUSTER = {
    "name": env_str("DISPATCHER_QUEUE_NAME", "dispatcher"),
    "workers": env_int("DISPATCHER_QUEUE_WORKERS", 2, minimum=1),
    "timeout": TASK_TIMEOUT_S,
    # Must exceed the timeout, or a second worker picks up a task still running.
    "retry": TASK_TIMEOUT_S + max(5, TASK_TIMEOUT_S // 5),
    "max_attempts": 3,
    "save_limit": env_int("DISPATCHER_QUEUE_SAVE_LIMIT", 250, minimum=0),
    "catch_up": False,
    "label": "Tasks",
    **({"redis": REDIS_URL} if REDIS_URL else {"orm": "default"}),
}

# Backend and notification timing.
BACKEND_TIMEOUT_S = env_float("DISPATCHER_BACKEND_TIMEOUT_S", 30.0, minimum=0.1)
# A job waiting in the queue for a worker fails only after this long (a backlog drains).
QUEUE_TIMEOUT_S = env_int("DISPATCHER_QUEUE_TIMEOUT_S", 24 * 3600, minimum=60)
# A worker calling a backend holds the job's lease and renews it every third of this;
# a lease that runs out (the worker died) has the call made again.
RUN_LEASE_S = env_int("DISPATCHER_RUN_LEASE_S", 60, minimum=3)
# A task due this long that no worker took up, with the queue empty, was lost: call again.
REQUEUE_AFTER_S = env_int("DISPATCHER_REQUEUE_AFTER_S", 120, minimum=5)
SYNC_ANSWER_WAIT_S = env_float("DISPATCHER_SYNC_ANSWER_WAIT_S", 0.0, minimum=0.0)
UWS_MAX_WAIT_S = env_int("DISPATCHER_UWS_MAX_WAIT_S", 30, minimum=0, maximum=600)  # cap on a UWS ?WAIT=n

# Email.
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = env_str("DISPATCHER_SMTP_HOST")
EMAIL_PORT = env_int("DISPATCHER_SMTP_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("DISPATCHER_SMTP_USER")
EMAIL_HOST_PASSWORD = env_str("DISPATCHER_SMTP_PASSWORD")
EMAIL_USE_TLS = env_bool("DISPATCHER_SMTP_TLS", False)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = env_str("DISPATCHER_EMAIL_FROM", "dispatcher@localhost")
EMAIL_BCC = env_list("DISPATCHER_EMAIL_BCC")

# Matrix.
MATRIX_HOMESERVER = env_url("DISPATCHER_MATRIX_HOMESERVER", schemes=("http", "https"))
MATRIX_USER_ID = env_str("DISPATCHER_MATRIX_USER_ID")
MATRIX_ACCESS_TOKEN = env_str("DISPATCHER_MATRIX_ACCESS_TOKEN")
MATRIX_BCC_ROOMS = env_list("DISPATCHER_MATRIX_BCC_ROOMS")
MATRIX_INCIDENT_ROOMS = env_list("DISPATCHER_MATRIX_INCIDENT_ROOMS")
# The operators' addresses that /report_incident mails (the Matrix side: DISPATCHER_MATRIX_INCIDENT_ROOMS).
INCIDENT_EMAILS = env_list("DISPATCHER_INCIDENT_EMAILS")

# Notifications: site defaults of the token's options (both channels), and retries.
_NOTIFY_SUBMITTED = env_bool("DISPATCHER_NOTIFY_SUBMITTED", False)
_NOTIFY_DONE = env_bool("DISPATCHER_NOTIFY_DONE", True)
_NOTIFY_FAILED = env_bool("DISPATCHER_NOTIFY_FAILED", True)
_NOTIFY_DONE_ONLY_IF_SLOW = env_bool("DISPATCHER_NOTIFY_DONE_ONLY_IF_SLOW", False)
_NOTIFY_SLOW_S = env_float("DISPATCHER_NOTIFY_SLOW_THRESHOLD_S", 1800.0, minimum=0.0)
_NOTIFY_INTERVAL_S = env_float("DISPATCHER_NOTIFY_SUBMITTED_INTERVAL_S", 1800.0, minimum=0.0)
NOTIFY_DEFAULTS = {
    "mssub": _NOTIFY_SUBMITTED, "msdone": _NOTIFY_DONE, "msfail": _NOTIFY_FAILED,
    "mstout": _NOTIFY_DONE_ONLY_IF_SLOW, "tem": _NOTIFY_SLOW_S, "intsub": _NOTIFY_INTERVAL_S,
    "mxsub": _NOTIFY_SUBMITTED, "mxdone": _NOTIFY_DONE, "mxfail": _NOTIFY_FAILED,
    "mxstout": _NOTIFY_DONE_ONLY_IF_SLOW, "tmx": _NOTIFY_SLOW_S, "mxintsub": _NOTIFY_INTERVAL_S,
}  # fmt: skip
# Attempts per delivery inside one task, and the first pause between them (doubled each time).
NOTIFY_MAX_ATTEMPTS = env_int("DISPATCHER_NOTIFY_MAX_ATTEMPTS", 3, minimum=1, maximum=10)
NOTIFY_RETRY_DELAY_S = env_float("DISPATCHER_NOTIFY_RETRY_DELAY_S", 2.0, minimum=0.0)
MATRIX_REQUEST_TIMEOUT_S = env_float("DISPATCHER_MATRIX_REQUEST_TIMEOUT_S", 20.0, minimum=1.0)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# gunicorn serves the admin's CSS and scripts itself (WhiteNoise), straight from the
# installed apps: no collectstatic step, nothing else to run.
WHITENOISE_USE_FINDERS = True
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    # BokehJS from the installed bokeh package, for the job page's plots (offline too)
    "jobs.bokehjs.BokehJSFinder",
]
PRODUCTS_DIR = DATA_DIR / "products"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Our error values (AuthError, JobError, InstrumentError, ParameterError) as the protocol's error JSON.
    "EXCEPTION_HANDLER": "dispatcher_site.rest.rest_exception_handler",
    # JSON bodies refused when no database stores them (NUL, lone surrogates, deep nesting).
    "DEFAULT_PARSER_CLASSES": [
        "dispatcher_site.rest.JsonBodyParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "ODA dispatcher API",
    "DESCRIPTION": (
        "The JSON REST API (/api/v1/) and the ODA wire protocol (served at / and under /dispatch-data/). "
        "Authenticate with the platform's JWT: `Authorization: Bearer <token>` (the protocol also takes `?token=`)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The protocol's plain Django views, described by hand (jobs.interfaces.rest.openapi).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "jobs.interfaces.rest.openapi.protocol_paths_hook",
    ],
    # Swagger UI's assets from drf-spectacular-sidecar, served by the app itself: no CDN (works offline).
    "SWAGGER_UI_DIST": "/api/docs/assets/swagger-ui-dist",
    "SWAGGER_UI_FAVICON_HREF": "/api/docs/assets/swagger-ui-dist/favicon-32x32.png",
    "REDOC_DIST": "/api/docs/assets/redoc",
}

# Verification of the platform's tokens (dispatcher_site.auth): HS256 with the shared
# secret only; the identity is the token's `sub`, so no database lookup per request.
# The platform's tokens carry no token_type or jti, so neither is required.
SIMPLE_JWT = {
    "ALGORITHM": "HS256",
    "SIGNING_KEY": TOKEN_SECRET,
    "VERIFYING_KEY": "",
    "LEEWAY": 0,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_CLAIM": "sub",
    "USER_ID_FIELD": "username",
    "TOKEN_TYPE_CLAIM": None,
    "JTI_CLAIM": None,
    "AUTH_TOKEN_CLASSES": ("dispatcher_site.auth.PlatformToken",),
    "UPDATE_LAST_LOGIN": False,
}

LOG_LEVEL = env_choice("DISPATCHER_LOG_LEVEL", "INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))
# plain: one text line per record; json: one JSON object per line (dispatcher_site.logs), both redacted.
LOG_FORMAT = env_choice("DISPATCHER_LOG_FORMAT", "PLAIN", choices=("PLAIN", "JSON")).lower()
LOGGING = logging_config(level=LOG_LEVEL, json=LOG_FORMAT == "json")
