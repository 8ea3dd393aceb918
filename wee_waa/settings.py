"""Wee-Waa settings: one file, every knob from the environment, defaults for a laptop.

With nothing set, the app runs on SQLite, the in-memory channel layer, local media files and
the in-process model manager, all under ``WEE_WAA_DATA_DIR`` (``.data/`` in the checkout).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from wee_waa.env import envbool, envchoice, envfloat, envint, envlist, envstr
from wee_waa.openapi import SPECTACULAR_SETTINGS  # noqa: F401 - drf-spectacular reads it from settings

# Lets admin.ModelAdmin[Model] and friends be written with type parameters at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(envstr("WEE_WAA_DATA_DIR", str(BASE_DIR / ".data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Use SECRET_KEY when given; otherwise keep a random one in the data folder.

    A fixed fallback would be a shared secret across every install; a fresh one per start
    would log everybody out on each restart.
    """
    configured = envstr("SECRET_KEY", "")
    if configured:
        return configured
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = envbool("DEBUG", False)
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_prometheus",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files (CSP)
    "channels",
    "axes",
    "csp",
    "wee_waa",
    "accounts",
    "generation",
    "gallery",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "wee_waa.csp.ContentSecurityPolicyMiddleware",
    "wee_waa.middleware.RefuseNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, as django-axes asks: turns a login refused for too many failures into the 429 page.
    "axes.middleware.AxesMiddleware",
]

# django-axes first: a locked-out account or address is refused before its password is hashed
# (PBKDF2 costs ~0.8 s of CPU per guess). Logins without a request (scripts, the test client)
# are not throttled, see accounts.backends.
AUTHENTICATION_BACKENDS = [
    "accounts.backends.LoginLimitBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "wee_waa.urls"
ASGI_APPLICATION = "wee_waa.asgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "studio"
LOGOUT_REDIRECT_URL = "login"

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
                "generation.context_processors.model_status_context",
            ],
        },
    },
]

# One DATABASE_URL; SQLite in the data folder when unset. SQLite gets WAL and immediate
# transactions because the model manager thread writes while requests are served.
DATABASES = {
    "default": dj_database_url.parse(envstr("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}"), conn_max_age=0)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Tests get a file too: an in-memory test database is shared-cache, where threads (the
    # manager, its heartbeat) meet "table is locked" at once instead of waiting their turn.
    # One per process, so two test runs side by side never share (and delete) one file.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-db-{os.getpid()}.sqlite3")}
else:
    # A database server too gets one test database per process (Django's default name is
    # fixed), so two test runs against one server never create, use or drop each other's.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}
# Connections are kept (seconds; SQLite opens and sets its pragmas per connection otherwise).
# PostgreSQL with WEE_WAA_DB_POOL=true uses psycopg's pool instead (needs psycopg_pool).
DATABASES["default"]["CONN_MAX_AGE"] = envint("WEE_WAA_DB_CONN_MAX_AGE", 60, minimum=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Threads that run HTTP requests under the ASGI server (wee_waa/handler.py); each keeps its own
# database connection. More overlap database waits; the Python work shares one core anyway.
WEE_WAA_HTTP_THREADS = envint("WEE_WAA_HTTP_THREADS", 4, minimum=1)
if envbool("WEE_WAA_DB_POOL", False):
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("WEE_WAA_DB_POOL=true needs a PostgreSQL DATABASE_URL")
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django refuses persistent connections with a pool
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": envint("WEE_WAA_DB_POOL_MIN", 2, minimum=1),
        "max_size": envint("WEE_WAA_DB_POOL_MAX", 20, minimum=1),
        "timeout": 10,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One REDIS_URL: the channel layer and the cache; unset means in-process memory.
REDIS_URL = envstr("REDIS_URL", "")
# Connections per process to Redis for websockets; a full pool makes a handshake wait (up to
# the pool timeout) instead of failing with "Too many connections".
WEE_WAA_REDIS_MAX_CONNECTIONS = envint("WEE_WAA_REDIS_MAX_CONNECTIONS", 100, minimum=2)
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # Our subclass: read timeouts longer than the layer's blocking read (idle sockets
            # stay up), and a blocking, sized pool. See wee_waa/channel_layer.py.
            "BACKEND": "wee_waa.channel_layer.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "max_connections": WEE_WAA_REDIS_MAX_CONNECTIONS, "pool_timeout": 10.0},
        }
    }
    # Short timeouts: a dead Redis makes a cache call fail in about a second (the callers
    # degrade), never hang a request thread.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1.0, "socket_timeout": 1.0, "health_check_interval": 30},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# /healthz shows internals (model, manager, workers) to staff and to this bearer token only;
# /metrics needs its token once one is set (unset: open, as on a laptop).
WEE_WAA_HEALTH_TOKEN = envstr("WEE_WAA_HEALTH_TOKEN", "")
WEE_WAA_METRICS_TOKEN = envstr("WEE_WAA_METRICS_TOKEN", "")

# Login limits (django-axes): failed logins per account name and per client address within
# the cool-off window; the next attempt gets a 429 page with Retry-After. See accounts.login_limits.
WEE_WAA_LOGIN_FAILURES_PER_USER = envint("WEE_WAA_LOGIN_FAILURES_PER_USER", 10, minimum=1)
WEE_WAA_LOGIN_FAILURES_PER_ADDRESS = envint("WEE_WAA_LOGIN_FAILURES_PER_ADDRESS", 30, minimum=1)
WEE_WAA_LOGIN_COOLOFF_MINUTES = envint("WEE_WAA_LOGIN_COOLOFF_MINUTES", 15, minimum=1)
# Behind nginx the client's address is the last X-Forwarded-For entry (the proxy appends it).
WEE_WAA_BEHIND_PROXY = envbool("WEE_WAA_BEHIND_PROXY", False)
AXES_HANDLER = "accounts.login_limits.LoginLimitHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = 1  # budgets used up; the two budgets themselves are the settings above
AXES_COOLOFF_TIME = dt.timedelta(minutes=WEE_WAA_LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_CALLABLE = "accounts.login_limits.lockout_response"
AXES_CLIENT_IP_CALLABLE = "accounts.login_limits.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Sign-ups per client address per hour: fresh accounts multiply every per-user quota.
WEE_WAA_SIGNUPS_PER_HOUR = envint("WEE_WAA_SIGNUPS_PER_HOUR", 5, minimum=1)
# Personal API tokens (accounts/tokens.py): active (unrevoked, unexpired) tokens per account.
WEE_WAA_MAX_TOKENS_PER_USER = envint("WEE_WAA_MAX_TOKENS_PER_USER", 20, minimum=1)

# Content-Security-Policy (django-csp): our own files only, no inline script or style.
# wee_waa.csp adds this host's exact ws:/wss: origin to connect-src for the live socket.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ko", _("Korean"))]
LOCALE_PATHS = [BASE_DIR / "wee_waa" / "locale"]
TIME_ZONE = envstr("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every start when it is missing
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve straight from the source folders so a fresh clone needs no collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"

# Local files by default; any S3-compatible bucket through django-storages when configured.
_S3_BUCKET = envstr("WEE_WAA_S3_BUCKET", "")
if _S3_BUCKET:
    STORAGES = {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": _S3_BUCKET,
                "endpoint_url": envstr("WEE_WAA_S3_ENDPOINT_URL", "") or None,
                # Never a public bucket: the media view checks who asks, then redirects to a
                # presigned URL that dies soon, so an old link outlives no takedown for long.
                "querystring_auth": True,
                "querystring_expire": envint("WEE_WAA_S3_URL_EXPIRE", 300, minimum=1),
                "signature_version": "s3v4",  # v4 URLs carry their lifetime (X-Amz-Expires)
                # No ACL sent: objects are private by default, and buckets with ACLs disabled (new
                # AWS buckets) refuse uploads that name one, even "private".
                "default_acl": None,
                # Two uploads named "cat.png" get two keys: the second never overwrites the first.
                "file_overwrite": False,
            },
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # /media/ answers with a redirect to the bucket, and CSP applies to where an image lands.
    _S3_ENDPOINT = urlsplit(envstr("WEE_WAA_S3_ENDPOINT_URL", ""))
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"].append(
        f"{_S3_ENDPOINT.scheme}://{_S3_ENDPOINT.netloc}" if _S3_ENDPOINT.netloc else "https://*.amazonaws.com"
    )
else:
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
# Every file goes through the media view (gallery/media.py), which asks who may see it. Behind
# nginx, set this to the prefix of an ``internal`` location (e.g. ``/protected-media/``) that
# aliases MEDIA_ROOT: the app answers with X-Accel-Redirect and nginx sends the bytes.
WEE_WAA_MEDIA_ACCEL_PREFIX = envstr("WEE_WAA_MEDIA_ACCEL_PREFIX", "")
if WEE_WAA_MEDIA_ACCEL_PREFIX and not (
    WEE_WAA_MEDIA_ACCEL_PREFIX.startswith("/") and WEE_WAA_MEDIA_ACCEL_PREFIX.endswith("/")
):
    raise ImproperlyConfigured(
        f"WEE_WAA_MEDIA_ACCEL_PREFIX must start and end with '/', got {WEE_WAA_MEDIA_ACCEL_PREFIX!r}"
    )

REST_FRAMEWORK = {
    # A bearer token (accounts.authentication) when the request sends one, else the session.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Strict: bounded nesting, no NUL or lone surrogates, finite numbers; a 400 otherwise.
    "DEFAULT_PARSER_CLASSES": ["wee_waa.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["wee_waa.api.SafeJSONRenderer"],
    "EXCEPTION_HANDLER": "wee_waa.api.exception_handler",
    # The OpenAPI schema (/api/v1/schema/, docs at /api/docs/); settings in wee_waa/openapi.py.
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Per user, for the endpoints that name a scope (likes, reports). A token request also
    # spends its token's own budget, "<scope>_per_token" (else the scope's): wee_waa/throttling.py.
    "DEFAULT_THROTTLE_RATES": {
        "likes": "60/min",
        "reports": "10/hour",
        "likes_per_token": "30/min",
        "reports_per_token": "5/hour",
    },
}

# One switch for serving over HTTPS: secure cookies, redirect, HSTS. Off on a laptop.
HTTPS = envbool("WEE_WAA_HTTPS", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if envbool("WEE_WAA_BEHIND_PROXY", False) else None

# The model manager.
WEE_WAA_MODEL = envstr("WEE_WAA_MODEL", "stabilityai/sd-turbo")
WEE_WAA_DEVICE = envchoice("WEE_WAA_DEVICE", "auto", ("auto", "cuda", "cpu", "mps"))
WEE_WAA_MANAGER = envchoice("WEE_WAA_MANAGER", "inprocess", ("inprocess", "off"))
WEE_WAA_MODEL_CACHE = Path(envstr("WEE_WAA_MODEL_CACHE", str(DATA_DIR / "models")))
WEE_WAA_MAX_ATTEMPTS = envint("WEE_WAA_MAX_ATTEMPTS", 3, minimum=1)
WEE_WAA_POLL_SECONDS = envfloat("WEE_WAA_POLL_SECONDS", 1.0, minimum=0.05)
# Images per pipeline call; jobs of different users with the same size/steps/guidance share one.
WEE_WAA_MAX_BATCH = envint("WEE_WAA_MAX_BATCH", 16, minimum=1)
# Unfinished (queued or drawing) jobs one user may have, and queued jobs in all.
WEE_WAA_MAX_UNFINISHED_PER_USER = envint("WEE_WAA_MAX_UNFINISHED_PER_USER", 10, minimum=1)
WEE_WAA_MAX_QUEUE = envint("WEE_WAA_MAX_QUEUE", 500, minimum=1)
# A worker renews the lease on its jobs every third of this; an expired lease means it died.
WEE_WAA_LEASE_SECONDS = envfloat("WEE_WAA_LEASE_SECONDS", 30.0, minimum=1.0)
# Previews: every N steps; decoded by an AutoencoderTiny (hub id or folder) when one is named,
# otherwise by a cheap linear latent → RGB projection.
WEE_WAA_PREVIEW_EVERY = envint("WEE_WAA_PREVIEW_EVERY", 1, minimum=0)
WEE_WAA_PREVIEW_VAE = envstr("WEE_WAA_PREVIEW_VAE", "")
# GPU: half precision by default, torch.compile when asked (slow first batches, faster after).
WEE_WAA_DTYPE = envchoice("WEE_WAA_DTYPE", "auto", ("auto", "fp16", "bf16", "fp32"))
WEE_WAA_COMPILE = envbool("WEE_WAA_COMPILE", False)
# Torch's CPU threads for the drawing thread; 0: half the cores (the web threads need the rest).
WEE_WAA_TORCH_THREADS = envint("WEE_WAA_TORCH_THREADS", 0, minimum=0)
# GPU compile mode: "reduce-overhead" (CUDA graphs, one per batch bucket and size, all warmed at
# start) or "max-autotune"; WEE_WAA_WARMUP_SIZES lists the square sizes warmed. On a GPU a
# batch is padded to 1/2/4/8/16/32 images (WEE_WAA_BUCKETS=false: no padding).
WEE_WAA_COMPILE_MODE = envchoice(
    "WEE_WAA_COMPILE_MODE", "reduce-overhead", ("reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
)
WEE_WAA_WARMUP_SIZES = [int(side) for side in envlist("WEE_WAA_WARMUP_SIZES", ["512"])]
WEE_WAA_BUCKETS = envbool("WEE_WAA_BUCKETS", True)
# The final decoder: "vae" (the model's own) or "taesd" (WEE_WAA_PREVIEW_VAE's tiny autoencoder,
# fast and a little softer) for the whole process.
WEE_WAA_FINAL_DECODER = envchoice("WEE_WAA_FINAL_DECODER", "vae", ("vae", "taesd"))
# Threads that store results (PNG, files, one transaction per batch) and encode previews, off
# the drawing thread; 0 does it all on the drawing thread.
WEE_WAA_RESULT_WORKERS = envint("WEE_WAA_RESULT_WORKERS", 2, minimum=0)
# A claim that would draw far below the batch limit while jobs are still arriving waits this
# long at most to gather them (tuned with ``python -m bench.load``: 0/20/60/120 gave the same
# mean batch at 16 users, and a lone user waits up to half of it, so 20).
WEE_WAA_CLAIM_WAIT_MS = envint("WEE_WAA_CLAIM_WAIT_MS", 20, minimum=0)
# Edits: an inpainting checkpoint (hub id or folder) whose 9-channel UNet redraws painted
# regions; empty: the drawing model blends the region itself (no second model in memory).
WEE_WAA_INPAINT_MODEL = envstr("WEE_WAA_INPAINT_MODEL", "")
# Styles: LoRA adapters kept loaded at once, the largest adapter an admin may upload, and how
# often a style training writes a checkpoint it can resume from (in steps).
WEE_WAA_MAX_LOADED_ADAPTERS = envint("WEE_WAA_MAX_LOADED_ADAPTERS", 4, minimum=1)
WEE_WAA_MAX_ADAPTER_MB = envint("WEE_WAA_MAX_ADAPTER_MB", 256, minimum=1)
WEE_WAA_STYLE_CHECKPOINT_EVERY = envint("WEE_WAA_STYLE_CHECKPOINT_EVERY", 50, minimum=1)

# Creations are rendered by the server (gallery/limits.py): characters per picture, the largest
# background they are drawn on, renders per user per minute, renders at once per process (and
# how long one waits for its turn before a 503), and pictures stored per account.
WEE_WAA_MAX_LAYERS = envint("WEE_WAA_MAX_LAYERS", 20, minimum=1)
WEE_WAA_MAX_RENDER_PIXELS = envint("WEE_WAA_MAX_RENDER_PIXELS", 1024 * 1024, minimum=64 * 64)
WEE_WAA_RENDERS_PER_MINUTE = envint("WEE_WAA_RENDERS_PER_MINUTE", 20, minimum=1)
WEE_WAA_RENDER_CONCURRENCY = envint("WEE_WAA_RENDER_CONCURRENCY", 2, minimum=1)
WEE_WAA_RENDER_WAIT_SECONDS = envfloat("WEE_WAA_RENDER_WAIT_SECONDS", 5.0, minimum=0.0)
WEE_WAA_MAX_PICTURES_PER_USER = envint("WEE_WAA_MAX_PICTURES_PER_USER", 1000, minimum=1)

# Webhooks (generation/webhooks.py): the address links in them start with; attempts before
# giving up; seconds one attempt may take; private/loopback targets (tests, a LAN) allowed; a
# delivery thread in each server process (off when ``deliver_webhooks`` runs elsewhere).
WEE_WAA_PUBLIC_URL = envstr("WEE_WAA_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
if urlsplit(WEE_WAA_PUBLIC_URL).scheme not in {"http", "https"} or not urlsplit(WEE_WAA_PUBLIC_URL).netloc:
    raise ImproperlyConfigured(
        f"WEE_WAA_PUBLIC_URL must be like https://studio.example.com, got {WEE_WAA_PUBLIC_URL!r}"
    )
WEE_WAA_WEBHOOK_MAX_ATTEMPTS = envint("WEE_WAA_WEBHOOK_MAX_ATTEMPTS", 6, minimum=1)
WEE_WAA_WEBHOOK_TIMEOUT_SECONDS = envfloat("WEE_WAA_WEBHOOK_TIMEOUT_SECONDS", 10.0, minimum=0.1)
WEE_WAA_WEBHOOK_ALLOW_PRIVATE = envbool("WEE_WAA_WEBHOOK_ALLOW_PRIVATE", False)
WEE_WAA_WEBHOOK_THREAD = envbool("WEE_WAA_WEBHOOK_THREAD", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "generation": {"handlers": ["console"], "level": envstr("WEE_WAA_LOG_LEVEL", "INFO"), "propagate": False},
        "wee_waa": {"handlers": ["console"], "level": envstr("WEE_WAA_LOG_LEVEL", "INFO"), "propagate": False},
    },
}
