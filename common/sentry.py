"""The hook for error reporting to Sentry, switched on by `SENTRY_DSN`.

sentry-sdk is not one of our dependencies (nothing in the lock files brings it), so a deployment
that wants it adds `sentry-sdk[django,celery]` to pyproject.toml and runs `make lock`. Until then
a DSN in the environment stops start-up with a message that says so, rather than reporting
nothing while the operator believes errors are being collected.
"""

from __future__ import annotations

import importlib

from django.core.exceptions import ImproperlyConfigured


def sentry_init(*, dsn: str, environment: str) -> None:
    try:
        sentry_sdk = importlib.import_module("sentry_sdk")
        django_integration = importlib.import_module("sentry_sdk.integrations.django")
        celery_integration = importlib.import_module("sentry_sdk.integrations.celery")
    except ImportError:
        raise ImproperlyConfigured(
            "SENTRY_DSN is set but sentry-sdk is not installed: add sentry-sdk[django,celery] "
            "to pyproject.toml and run `make lock`, or unset SENTRY_DSN."
        ) from None
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[
            django_integration.DjangoIntegration(),
            celery_integration.CeleryIntegration(),
        ],
        # Errors only: tracing is a cost and a data-protection decision to make on purpose.
        traces_sample_rate=0.0,
        # People's names, emails and notes stay out of error reports.
        send_default_pii=False,
    )
