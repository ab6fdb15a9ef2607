"""Settings for the workers of the outbox tests (tests/core/test_outbox_worker.py): the test
settings, with an email backend that counts each message in Redis (tests.celery_probe)."""

from __future__ import annotations

from mentorship.settings.test import *  # noqa: F403

EMAIL_BACKEND = "tests.celery_probe.ProbeEmailBackend"
