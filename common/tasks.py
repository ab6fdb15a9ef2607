"""Publishing Celery tasks so that a broker outage never fails a write that has committed.

Every task we publish is a wake-up call for work already recorded in a row (an email QUEUED, an
announcement or a matching run queued). When the broker cannot take the message, the row is
still there, and the relay (core.tasks.background_work_relay_task) publishes it again later. So a
failure to publish is logged and swallowed, never raised into the request that saved the row.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from celery import Task, current_app
from django.db import transaction
from kombu.exceptions import ChannelError

from .breaker import CircuitBreaker

logger = logging.getLogger(__name__)

# While the broker is down, a request skips publishing for this long instead of paying the
# connection attempt (about 0.7 s with Celery's publish retries) for each task.
broker_breaker = CircuitBreaker("the Celery broker", retry_after=15)
BROKER_CHECK_TIMEOUT_SECONDS = 2


def enqueue(task: Task, /, **kwargs: Any) -> bool:
    """Publish `task` with keyword arguments now. Returns False, after logging why, when the
    broker did not take it (down, or skipped for a few seconds after a failure); the caller's
    row stays for the relay. In-process (eager) mode runs the task here, and a task that fails
    there is logged the same way, as a worker would."""
    if task.app.conf.task_always_eager:
        try:
            task.delay(**kwargs)
        except Exception:
            logger.exception("task %s(%s) failed; left for the relay", task.name, kwargs)
            return False
        return True
    if broker_breaker.is_open:
        logger.info("broker down: %s(%s) left for the relay", task.name, kwargs)
        return False
    try:
        task.delay(**kwargs)
    except Exception as error:
        broker_breaker.failed(error)
        logger.warning("could not publish %s(%s): %s; left for the relay", task.name, kwargs, error)
        return False
    broker_breaker.succeeded()
    return True


def enqueue_on_commit(task: Task, /, **kwargs: Any) -> None:
    """Publish `task` once the current transaction commits (at once outside one): nothing is
    published for work that rolled back, and a broker that is down costs the request nothing
    but a log line (see `enqueue`)."""
    transaction.on_commit(lambda: enqueue(task, **kwargs))


def broker_backlog(*, queue: str | None = None) -> int | None:
    """How many messages wait in `queue` (the default queue when None), or None when that
    cannot be known (in-process mode, broker down, a transport that does not say)."""
    app = current_app
    if app.conf.task_always_eager:
        return None
    name = queue or app.conf.task_default_queue
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(
                max_retries=1, interval_start=0, timeout=BROKER_CHECK_TIMEOUT_SECONDS
            )
            try:
                channel = cast(Any, conn.default_channel)  # kombu's stubs lack queue_declare
                declared = channel.queue_declare(queue=name, passive=True)
            except ChannelError:
                return 0  # Redis drops the key of an empty list: nothing waits
            return int(declared.message_count)
    except Exception as error:
        logger.info("could not read the broker's backlog: %s", error)
        return None
