"""Settings for the test suite: the database and broker still come from the environment, so
`make test` with DATABASE_URL/CELERY_BROKER_URL set runs against real PostgreSQL and Redis."""

from __future__ import annotations

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Every test reads the dashboards' figures fresh (tests that are about the cache turn it on).
DASHBOARD_CACHE_SECONDS = 0
# Tests run tasks in-process; the worker tests switch this off and talk to the real broker.
CELERY_TASK_ALWAYS_EAGER = True
WHITENOISE_AUTOREFRESH = True
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/300s/key"}
