"""Settings for the recording certificate administration portal.

Everything comes from the environment (django-environ). Production is the default: with DEBUG off, a missing
SECRET_KEY, DATABASE_URL, ALLOWED_HOSTS or master key stops start-up with a clear message instead of falling back
to something insecure.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)


def _required(name: str, dev_default: str) -> str:
    """A setting production must provide; only a DEBUG (development) run may use the built-in value."""
    value = env.str(name, default="")
    if value:
        return value
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(f"{name} must be set in the environment when DEBUG is off (see README, Configuration).")


SECRET_KEY = _required("SECRET_KEY", "development-only-secret-key-never-use-in-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set in the environment when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "portal.web.errors.csrf_failure"

DATABASES = {"default": env.db_url_config(_required("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Keep connections open between requests (a new PostgreSQL connection per request costs a backend fork and
# authentication); health checks drop connections the server closed meanwhile.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, with a health check that asks the socket instead of the server (portal/web/postgresql).
    DATABASES["default"]["ENGINE"] = "portal.web.postgresql"
if DATABASES["default"]["ENGINE"] == "portal.web.postgresql" and env.bool("DB_PREPARED_STATEMENTS", True):
    # Parameters sent apart from the query (rather than written into it by Python), and each connection prepares a
    # query the fifth time it runs it, so PostgreSQL stops parsing and planning the same page queries on every
    # request. Turn it off behind a pooler that hands one session's statements to another (PgBouncer in
    # transaction mode).
    DATABASES["default"].setdefault("OPTIONS", {}).update({"server_side_binding": True, "prepare_threshold": 5})
if DATABASES["default"]["ENGINE"] == "portal.web.postgresql":
    # A database server that does not answer fails a request (and /healthz) after this many seconds, rather than
    # holding a worker for the system's TCP timeout.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", env.int("DB_CONNECT_TIMEOUT", 5))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite allows one writer at a time. A transaction that starts reading and then writes cannot wait for the
    # write lock (it fails at once with "database is locked"), so every transaction takes the lock when it begins
    # (IMMEDIATE) and waits up to 20 s for it. Write-ahead logging lets pages read while another request writes.
    # synchronous stays FULL (the default): a commit is on disk when it returns, audit entries included.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The keystore's master key wraps every tenant key. It never lives in the database. Exactly one provider is set: the
# key itself (base64), a file holding it, a PKCS#11 token or AWS KMS (see README, Keystore). The PREVIOUS_ settings
# name the key being rotated away from, which may be of another kind.
PORTAL_MASTER_KEY = env.str("PORTAL_MASTER_KEY", default="")
PORTAL_MASTER_KEY_FILE = env.str("PORTAL_MASTER_KEY_FILE", default="")
PORTAL_MASTER_KEY_PKCS11_MODULE = env.str("PORTAL_MASTER_KEY_PKCS11_MODULE", default="")
PORTAL_MASTER_KEY_PKCS11_TOKEN_LABEL = env.str("PORTAL_MASTER_KEY_PKCS11_TOKEN_LABEL", default="")
PORTAL_MASTER_KEY_PKCS11_PIN = env.str("PORTAL_MASTER_KEY_PKCS11_PIN", default="")
PORTAL_MASTER_KEY_PKCS11_PIN_FILE = env.str("PORTAL_MASTER_KEY_PKCS11_PIN_FILE", default="")
PORTAL_MASTER_KEY_PKCS11_KEY_LABEL = env.str("PORTAL_MASTER_KEY_PKCS11_KEY_LABEL", default="")
PORTAL_MASTER_KEY_KMS_KEY_ID = env.str("PORTAL_MASTER_KEY_KMS_KEY_ID", default="")
PORTAL_MASTER_KEY_KMS_REGION = env.str("PORTAL_MASTER_KEY_KMS_REGION", default="")
PORTAL_MASTER_KEY_KMS_ENDPOINT_URL = env.str("PORTAL_MASTER_KEY_KMS_ENDPOINT_URL", default="")
PORTAL_PREVIOUS_MASTER_KEY = env.str("PORTAL_PREVIOUS_MASTER_KEY", default="")
PORTAL_PREVIOUS_MASTER_KEY_FILE = env.str("PORTAL_PREVIOUS_MASTER_KEY_FILE", default="")
PORTAL_PREVIOUS_MASTER_KEY_PKCS11_MODULE = env.str("PORTAL_PREVIOUS_MASTER_KEY_PKCS11_MODULE", default="")
PORTAL_PREVIOUS_MASTER_KEY_PKCS11_TOKEN_LABEL = env.str("PORTAL_PREVIOUS_MASTER_KEY_PKCS11_TOKEN_LABEL", default="")
PORTAL_PREVIOUS_MASTER_KEY_PKCS11_PIN = env.str("PORTAL_PREVIOUS_MASTER_KEY_PKCS11_PIN", default="")
PORTAL_PREVIOUS_MASTER_KEY_PKCS11_PIN_FILE = env.str("PORTAL_PREVIOUS_MASTER_KEY_PKCS11_PIN_FILE", default="")
PORTAL_PREVIOUS_MASTER_KEY_PKCS11_KEY_LABEL = env.str("PORTAL_PREVIOUS_MASTER_KEY_PKCS11_KEY_LABEL", default="")
PORTAL_PREVIOUS_MASTER_KEY_KMS_KEY_ID = env.str("PORTAL_PREVIOUS_MASTER_KEY_KMS_KEY_ID", default="")
PORTAL_PREVIOUS_MASTER_KEY_KMS_REGION = env.str("PORTAL_PREVIOUS_MASTER_KEY_KMS_REGION", default="")
PORTAL_PREVIOUS_MASTER_KEY_KMS_ENDPOINT_URL = env.str("PORTAL_PREVIOUS_MASTER_KEY_KMS_ENDPOINT_URL", default="")
_CURRENT_MASTER_KEY_SETTINGS = (
    PORTAL_MASTER_KEY,
    PORTAL_MASTER_KEY_PKCS11_MODULE,
    PORTAL_MASTER_KEY_PKCS11_TOKEN_LABEL,
    PORTAL_MASTER_KEY_PKCS11_PIN,
    PORTAL_MASTER_KEY_PKCS11_PIN_FILE,
    PORTAL_MASTER_KEY_PKCS11_KEY_LABEL,
    PORTAL_MASTER_KEY_KMS_KEY_ID,
    PORTAL_MASTER_KEY_KMS_REGION,
    PORTAL_MASTER_KEY_KMS_ENDPOINT_URL,
)
# Development keeps its key in var/master.key unless another provider is set.
if DEBUG and not PORTAL_MASTER_KEY_FILE and not any(_CURRENT_MASTER_KEY_SETTINGS):
    PORTAL_MASTER_KEY_FILE = str(BASE_DIR / "var" / "master.key")
if not PORTAL_MASTER_KEY_FILE and not any(_CURRENT_MASTER_KEY_SETTINGS):
    raise ImproperlyConfigured(
        "The keystore master key is missing: set PORTAL_MASTER_KEY_FILE, PORTAL_MASTER_KEY, the "
        "PORTAL_MASTER_KEY_PKCS11_… or the PORTAL_MASTER_KEY_KMS_… settings (see README, Keystore)."
    )

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "portal.accounts",
    "portal.audit",
    "portal.web",
    "portal.jobs",
    "keystore",
    "certificates",
    "ivr",
    "screenrecording",
    "expiry",
    "recordings",
    "lkm",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "portal.accounts.middleware.RejectNulBytesMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.accounts.middleware.IdleSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    "portal.web.errors.DatabaseBusyMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "portal.accounts.context_processors.navigation",
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, loading each request's user with one statement written once per process.
    "portal.accounts.backends.UserBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# What can be recomputed, filed under versions read from the database (the expiry counts, where certificates are
# assigned) or under what alone decides it (the navigation and the tenant home page's sections, per tenant and
# role), so nothing shown depends on it being shared or kept. Per process by default, with room for a few thousand
# tenants' entries; CACHE_URL (e.g. redis://127.0.0.1:6379/1) shares it between the processes and nodes, so a count
# one worker reads after a write is there for every other worker.
CACHE_URL = env.str("CACHE_URL", default="")
if CACHE_URL:
    CACHES = {"default": env.cache_url_config(CACHE_URL)}
    for _option in ("key_prefix", "timeout", "version"):  # django-environ leaves these lower case for Redis
        if _option in CACHES["default"]:
            CACHES["default"][_option.upper()] = CACHES["default"].pop(_option)
    CACHES["default"].setdefault("KEY_PREFIX", "portal")
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    }

# Redis is used for speed only: a Redis that is down or slow makes pages recompute instead of failing (portal/web/
# cache.py), after at most CACHE_TIMEOUT_SECONDS per attempt; /healthz reports it down.
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "portal.web.cache.RedisCache"
    _cache_timeout = env.float("CACHE_TIMEOUT_SECONDS", default=0.5)
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("socket_connect_timeout", _cache_timeout)
    CACHES["default"]["OPTIONS"].setdefault("socket_timeout", _cache_timeout)
# How many nodes serve the portal, for the system check that warns of a per-process cache (portal/web/checks.py);
# gunicorn's own worker count is read where gunicorn runs.
PORTAL_NODES = env.int("PORTAL_NODES", default=1)

# Sessions live in the database, so signing out ends them on every node; each request reads its session with one
# statement written once per process (portal/accounts/sessions.py). They end after SESSION_COOKIE_AGE of inactivity
# (IdleSessionMiddleware renews them, at most once a minute) and when the browser closes.
SESSION_ENGINE = "portal.accounts.sessions"
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Lockout after repeated failed sign-ins, per username and address, so one attacker cannot lock everyone out.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_CALLABLE = "portal.accounts.views.locked_out"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Failures are counted in the database, so a lockout holds on every node and process (the cache handler would count
# per process unless the cache is shared).
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"

# Transport security: on by default, switched off only explicitly (development over plain HTTP).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The load balancer probes each node over plain HTTP, without the proxy's X-Forwarded-Proto: /healthz answers it
# instead of redirecting. It sets no cookie and shows nothing but whether each part works (portal/web/health.py).
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Uploads are small PEM/DER/PKCS#12 files; anything larger is refused before it is read into memory.
PORTAL_MAX_UPLOAD_BYTES = env.int("PORTAL_MAX_UPLOAD_BYTES", default=256 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Recordings decrypted on the page: an upload of at most this many bytes (several files or a zip archive) waits in
# the spool, still encrypted, until its decrypted download or for PORTAL_RECORDINGS_KEEP_MINUTES. Larger work goes
# to `manage.py decrypt_recordings`, which has no such limit.
PORTAL_RECORDINGS_MAX_UPLOAD_BYTES = env.int("PORTAL_RECORDINGS_MAX_UPLOAD_BYTES", default=1024 * 1024 * 1024)
PORTAL_RECORDINGS_SPOOL_DIR = env.path("PORTAL_RECORDINGS_SPOOL_DIR", default=BASE_DIR / "var" / "recordings")
PORTAL_RECORDINGS_KEEP_MINUTES = env.int("PORTAL_RECORDINGS_KEEP_MINUTES", default=60)

# Background jobs (portal/jobs): long work runs in `manage.py run_worker`, not in a web request. On PostgreSQL,
# Procrastinate delivers them (its tables live in the same database: no broker); on SQLite, for development, the
# worker polls the Job table. Result files wait in PORTAL_JOBS_DIR for PORTAL_JOBS_KEEP_MINUTES; a job whose worker
# stops beating for PORTAL_JOBS_STALLED_SECONDS is taken over by another worker.
PORTAL_JOBS_DIR = env.path("PORTAL_JOBS_DIR", default=BASE_DIR / "var" / "jobs")
PORTAL_JOBS_KEEP_MINUTES = env.int("PORTAL_JOBS_KEEP_MINUTES", default=60)
PORTAL_JOBS_STALLED_SECONDS = env.int("PORTAL_JOBS_STALLED_SECONDS", default=30)
# From this many keys, a keystore backup is made by a job; from this many recordings or bytes, so is a decryption.
PORTAL_BACKUP_JOB_MIN_KEYS = env.int("PORTAL_BACKUP_JOB_MIN_KEYS", default=50)
PORTAL_RECORDINGS_JOB_MIN_FILES = env.int("PORTAL_RECORDINGS_JOB_MIN_FILES", default=20)
PORTAL_RECORDINGS_JOB_MIN_BYTES = env.int("PORTAL_RECORDINGS_JOB_MIN_BYTES", default=64 * 1024 * 1024)
if DATABASES["default"]["ENGINE"] == "portal.web.postgresql":
    # Its migrations are PostgreSQL SQL: installed only there.
    INSTALLED_APPS.append("procrastinate.contrib.django")

# The Local Key Manager behind a TLS proxy: the scheme, host and port Genesys Cloud calls (e.g.
# https://lkm.example.com), which its Hawk signatures cover. Empty: the request's own host and port.
LKM_PUBLIC_URL = env.str("LKM_PUBLIC_URL", default="")
# Paths of APIs that machines call: every error there, even one raised before the view, is JSON in the API's shape.
MACHINE_API_PATHS = ["/key-management/"]

# The portal's address as administrators reach it (e.g. https://certificates.example.com): expiry mails link to
# each certificate's Renew page under it. Empty: the mails name the page instead of linking to it.
PORTAL_PUBLIC_URL = env.str("PORTAL_PUBLIC_URL", default="").rstrip("/")

# Up to this many tenants, the tenant switcher and the cross-tenant filters are drop-down lists; beyond it, a box to
# type a tenant's identifier in, so that a page does not carry every tenant (twice) whoever reads it.
PORTAL_TENANT_LIST_MAX = env.int("PORTAL_TENANT_LIST_MAX", default=50)

# Expiry thresholds, in days, for dashboards and notifications.
PORTAL_EXPIRY_WINDOWS = env.list("PORTAL_EXPIRY_WINDOWS", cast=int, default=[30, 60, 90])
PORTAL_NOTIFY_DAYS = env.list("PORTAL_NOTIFY_DAYS", cast=int, default=[60, 30, 14, 7, 1])

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="portal@localhost")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

DEFAULT_EXCEPTION_REPORTER_FILTER = "portal.accounts.reporting.AlwaysSafeExceptionReporterFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # procrastinate.blueprints says at every start of every command that it adds the job tasks. botocore logs
    # each AWS request and answer at DEBUG, and a KMS one holds a tenant's data key: never below WARNING.
    "loggers": {
        "axes": {"level": "WARNING"},
        "procrastinate.blueprints": {"level": "WARNING"},
        "botocore": {"level": "WARNING"},
        "boto3": {"level": "WARNING"},
    },
}
