"""Settings shared by every environment, and the embedded default.

With no environment at all this runs on SQLite in the project folder, runs Celery tasks in-process,
prints email to the console and has DEBUG on: a newcomer gets a working app from one command.
`DATABASE_URL` and `CELERY_BROKER_URL` switch to PostgreSQL and Redis.
"""

from __future__ import annotations

from pathlib import Path

from .environment import (
    env_bool,
    env_broker_url,
    env_cache,
    env_choice,
    env_database,
    env_email,
    env_header_name,
    env_int,
    env_list,
    env_optional,
    env_site_url,
    env_str,
    read_env_file,
)

BASE_DIR = Path(__file__).resolve().parents[2]
read_env_file(BASE_DIR / ".env")

DEBUG = env_bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env_str(
    "DJANGO_SECRET_KEY",
    default="insecure-embedded-default-key-only-for-local-use-never-in-production",
)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
# Absolute links in emails are built without a request (they are sent from Celery tasks).
SITE_URL = env_site_url("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Django's own form templates, found through TEMPLATES (see FORM_RENDERER).
    "django.forms",
    "django_htmx",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "accounts",
    "core",
    "notifications",
    "programs",
    "matching",
    "goals",
    "reports",
]

MIDDLEWARE = [
    # First: every later middleware's and view's log lines carry the request id.
    "common.request_id.RequestIdMiddleware",
    # /healthz answers here, before the heavy middleware below (core/middleware.py).
    "core.middleware.HealthzMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.UserTimezoneMiddleware",
]

ROOT_URLCONF = "mentorship.urls"
WSGI_APPLICATION = "mentorship.wsgi.application"
ASGI_APPLICATION = "mentorship.asgi.application"

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
                "core.context_processors.navigation",
            ],
        },
    },
]
# Forms render through TEMPLATES, so templates/django/forms/{div,field}.html draw every
# {{ form }} and {{ field.as_field_group }} in the project's markup.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

DATABASES = {
    "default": env_database("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DJANGO_DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # PostgreSQL's default random_page_cost (4) prices a random read as a disk seek; on an SSD
    # or from the page cache it costs little more than a sequential one. With 4 the planner
    # scanned whole tables (150,000 enrolments, 200,000 pulses) for each 1,000-relationship
    # batch of the reminder sweep instead of following an index: 43 ms a batch instead of 10.
    # 1.1 is the usual SSD value; set DATABASE_RANDOM_PAGE_COST empty to keep the server's.
    random_page_cost = env_str("DATABASE_RANDOM_PAGE_COST", default="1.1")
    if random_page_cost:
        float(random_page_cost)  # a typo fails here, not as a connection error
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c random_page_cost={random_page_cost}"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env_cache("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # Sign-in's rate limits live in this cache: a Redis outage falls back to a per-process
    # local cache instead of answering every sign-in with a 500 (common/cache.py).
    CACHES["default"]["BACKEND"] = "common.cache.FallbackRedisCache"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "core:home"

# --- django-allauth: email is the login; usernames do not exist.
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupDetailsForm"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
# Optional here so a newcomer can try the app without reading the console; production forces
# "mandatory".
ACCOUNT_EMAIL_VERIFICATION = env_choice(
    "ACCOUNT_EMAIL_VERIFICATION", choices=("none", "optional", "mandatory"), default="optional"
)
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Mentorship] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https") else "http"
# allauth's defaults already limit failed logins (5 per 5 minutes per account, 10 a minute per
# address); stated here so the limit is visible where it is configured.
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/300s/key"}

# --- Client addresses behind proxies. The per-address login limit needs the client's address,
# not the proxy's: without this, ten wrong passwords from anyone lock everyone out. Count only
# proxies you run (each appends to X-Forwarded-For; the entry that many from the right is the
# client's, so a forged left part is ignored), or name the one header your proxy sets.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", default=0)
TRUSTED_CLIENT_IP_HEADER = env_header_name("TRUSTED_CLIENT_IP_HEADER")
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = TRUSTED_CLIENT_IP_HEADER
# A trusted proxy may hand us its X-Request-ID; from anyone else we make our own.
REQUEST_ID_HEADER_TRUSTED = TRUSTED_PROXY_COUNT > 0 or TRUSTED_CLIENT_IP_HEADER is not None

LANGUAGE_CODE = "en-gb"
# Our English catalog comes first: allauth's pages in our sentence case ("Sign in").
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = BASE_DIR / "media"
MEDIA_URL = "/media/"

# --- Email: console by default; EMAIL_URL=smtp+tls://user:pass@host:587 for real delivery.
vars().update(env_email("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", default="Mentorship <mentorship@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery. Without a broker, tasks run in-process (the embedded default).
CELERY_BROKER_URL = env_broker_url("CELERY_BROKER_URL") or "memory://"
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL == "memory://"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# Progress and outcomes of long work are stored on our own models, so no result backend.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", default=300, minimum=1)
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 60
# Every task is written to be safe to run twice, so acknowledging after the work (and re-queueing
# when a worker dies mid-task) loses nothing and duplicates nothing.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A broker that drops packets must not hold a request for the kernel's connect timeout (minutes).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60, "socket_connect_timeout": 3}
# django-celery-beat's database scheduler, behind a lock: a second beat waits instead of sending
# every periodic task twice (common/beat.py).
CELERY_BEAT_SCHEDULER = "common.beat:GuardedDatabaseScheduler"
# Save a periodic task's last run as soon as it is sent (a few writes an hour), so a beat that
# takes over from a crashed one does not send again what was just sent.
CELERY_BEAT_SYNC_EVERY = 1
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- The relay (core.tasks.background_work_relay_task, every minute) publishes again the background
# work whose message was lost (broker down, queue lost, worker killed); the rows are the truth.
# A queued email, announcement or matching run not taken by a worker this long after it was due.
OUTBOX_RELAY_GRACE_SECONDS = env_int("OUTBOX_RELAY_GRACE_SECONDS", default=120)
# At most this many emails published again per run; nothing is re-published while the broker's
# queue already holds this many messages (the worker is behind, not losing messages).
OUTBOX_RELAY_BATCH_SIZE = env_int("OUTBOX_RELAY_BATCH_SIZE", default=500, minimum=1)
# An email SENDING this long has lost its worker (a send is killed at CELERY_TASK_TIME_LIMIT).
OUTBOX_SENDING_TIMEOUT_SECONDS = env_int(
    "OUTBOX_SENDING_TIMEOUT_SECONDS", default=max(600, CELERY_TASK_TIME_LIMIT + 60)
)
# An announcement delivering with no new recipient reached for this long has lost its worker.
ANNOUNCEMENT_STALLED_SECONDS = env_int("ANNOUNCEMENT_STALLED_SECONDS", default=600)
# The dashboards' figures are computed at most this often per view (scope and filters); 0: on
# every request. A coordinator's own nudges are always read fresh.
DASHBOARD_CACHE_SECONDS = env_int("DASHBOARD_CACHE_SECONDS", default=60, minimum=0)
# A matching run "running" this long has lost its worker (its task is killed after 16 minutes).
MATCH_RUN_STUCK_SECONDS = env_int("MATCH_RUN_STUCK_SECONDS", default=20 * 60)
# /healthz answers 503 when the worker's heartbeat (every 60 s, through beat) is older than this.
HEALTHZ_WORKER_STALE_SECONDS = env_int("HEALTHZ_WORKER_STALE_SECONDS", default=180)
# /healthz reports the outbox as degraded when the oldest queued email waits longer than this.
HEALTHZ_OUTBOX_LAG_SECONDS = env_int("HEALTHZ_OUTBOX_LAG_SECONDS", default=600)

# Text for a person at a terminal; LOG_FORMAT=json for a log collector (one object per line).
# Both carry the request id (`-` outside a request), also in the Celery tasks a request starts.
LOG_FORMAT = env_choice("LOG_FORMAT", choices=("text", "json"), default="text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"log_context": {"()": "common.logging.LogContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"},
        "json": {"()": "common.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["log_context"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- Error reporting. sentry-sdk is not among our dependencies; SENTRY_DSN is the hook for a
# deployment that adds it (pyproject.toml, then `make lock`). Set without it, start-up stops.
SENTRY_DSN = env_optional("SENTRY_DSN")
if SENTRY_DSN:
    from common.sentry import sentry_init

    sentry_init(dsn=SENTRY_DSN, environment=env_str("SENTRY_ENVIRONMENT", default="production"))
