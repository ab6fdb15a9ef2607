"""Running service calls at the same moment, each in a thread with its own PostgreSQL connection,
for the race tests (SQLite takes one writer at a time, so nothing would race there)."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, connections

from tests.conftest import require_service

# Celery's private state module (its stubs leave it out).
celery_state: Any = importlib.import_module("celery._state")


def require_postgresql() -> None:
    """Skip on a laptop without PostgreSQL; fail under CI (see require_service)."""
    require_service(
        connection.vendor == "postgresql",
        "a race needs a database with concurrent writers (set DATABASE_URL to PostgreSQL)",
    )


def run_at_once(calls: Sequence[Callable[[], Any]], *, timeout: float = 120) -> list[Any]:
    """Start every call together (a barrier), wait for all, and return what each returned or
    raised, in order. Each thread closes its connections when done."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[index] = call()
        except BaseException as error:  # handed to the test, which decides what is allowed
            outcomes[index] = error
        finally:
            connections.close_all()

    # Celery's eager mode marks "inside a task" in one process-wide flag, set and restored around
    # each task: threads running tasks at once can leave it set, and every later .get() in this
    # test process would then refuse ("Never call result.get() within a task").
    joins_blocked = celery_state.task_join_will_block()
    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    celery_state._set_task_join_will_block(joins_blocked)
    assert not any(thread.is_alive() for thread in threads), "a call never finished"
    return outcomes
