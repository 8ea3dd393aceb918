"""Wee-Waa settings: one file, every knob from the environment, defaults for a laptop.

With nothing set, the app runs on SQLite, the in-memory channel layer, local media files and
the in-process model manager, all under ``WEE_WAA_DATA_DIR`` (``.data/`` in the checkout).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.utils.translation import gettext_lazy as _

from wee_waa.env import envbool, envchoice, envfloat, envint, envlist, envstr

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
    "channels",
    "wee_waa",
    "accounts",
    "generation",
    "gallery",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One REDIS_URL: the channel layer and the cache; unset means in-process memory.
REDIS_URL = envstr("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

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
                "querystring_auth": True,
            },
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
else:
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
SERVE_MEDIA = envbool("WEE_WAA_SERVE_MEDIA", not _S3_BUCKET)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "wee_waa.api.exception_handler",
    # Per user, for the endpoints that name a scope (likes, reports).
    "DEFAULT_THROTTLE_RATES": {"likes": "60/min", "reports": "10/hour"},
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
