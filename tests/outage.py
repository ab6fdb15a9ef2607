"""Redis going away, as tests stage it: the broker and the cache pointed at a port nothing listens
on (refused at once), so no test touches the Redis other tests share. Import the fixtures into a
test module to use them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest

from common.cache import breaker_for
from common.tasks import broker_breaker
from mentorship.celery import app

CLOSED_PORT = "redis://127.0.0.1:1/0"


def _forget_broker_connections() -> None:
    # Celery keeps a pool of connections to the broker it was first given; the next task sent
    # must connect to the broker configured now.
    cast(Any, app)._pool = None
    cast(Any, app.amqp)._producer_pool = None


@pytest.fixture
def broker_down(settings, monkeypatch) -> Iterator[None]:
    """A deployment with a broker and a worker (tasks not run in-process), whose broker is down:
    every task sent fails to publish."""
    # app.conf reads through to Django's settings and resolves keys lazily, so monkeypatch
    # cannot undo them: note them first, and restore by hand.
    previous = {key: app.conf[key] for key in ("task_always_eager", "broker_url")}
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # Celery reads these variables before its own configuration (CI sets CELERY_BROKER_URL).
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
    app.conf.update(task_always_eager=False, broker_url=CLOSED_PORT)
    _forget_broker_connections()
    broker_breaker.reset()
    yield
    app.conf.update(previous)
    _forget_broker_connections()
    broker_breaker.reset()


def broker_back(settings) -> None:
    """The broker answers again: tasks run in-process once more, as the rest of the suite has
    them, and the breaker forgets the outage."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.update(task_always_eager=True)
    broker_breaker.reset()


@pytest.fixture
def cache_down(settings) -> Iterator[None]:
    """The default cache is Redis, as in production (common.cache.FallbackRedisCache), and Redis
    does not answer."""
    settings.CACHES = {
        "default": {"BACKEND": "common.cache.FallbackRedisCache", "LOCATION": CLOSED_PORT}
    }
    breaker_for(CLOSED_PORT).reset()
    yield
    breaker_for(CLOSED_PORT).reset()
