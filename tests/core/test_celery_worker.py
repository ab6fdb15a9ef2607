"""A real Celery worker against Redis: tasks queued on commit run exactly once, tasks queued in a
rolled-back transaction never run. Needs Redis (and PostgreSQL for the email test); skipped on a
bare laptop, failed under CI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pytest
import redis
from django.db import connection, transaction

from mentorship.celery import app
from notifications.models import OutboundEmail
from notifications.services import email_queue
from tests.celery_probe import probe_count_run_task, probe_key
from tests.conftest import require_service

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

REPO_ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 30


def wait_for(condition: Callable[[], bool], *, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out after {WAIT_SECONDS}s waiting for {what}")


def start_worker(
    queue: str,
    *,
    settings_module: str = "mentorship.settings.test",
    log: IO[str] | None = None,
    **env_vars: str,
) -> subprocess.Popen[str]:
    """A solo worker consuming only `queue`, on this test's database, as its own process (a
    test may kill it by its pid). Its log goes to `log` when given (a busy worker would fill a
    pipe nobody reads), else to a pipe stop_worker prints."""
    database = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module, **env_vars}
    if database["ENGINE"].endswith("postgresql"):
        # The worker must see the rows this test commits: point it at the test database.
        env["DATABASE_URL"] = (
            f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@"
            f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
        )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "mentorship",
            "worker",
            "--pool=solo",
            "--queues",
            queue,
            "--include",
            "tests.celery_probe",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=log or subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop_worker(process: subprocess.Popen[str]) -> None:
    process.terminate()  # its own pid: never kill workers by name
    try:
        output, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    # pytest shows a test's captured output when it fails: the worker's log explains why.
    sys.stdout.write((output or "")[-4000:])


@contextmanager
def sending_to(queue: str) -> Iterator[None]:
    """Point this process's task sending at `queue`, for real rather than eagerly."""
    # app.conf resolves keys lazily, so monkeypatch cannot undo them: restore by hand.
    previous = {key: app.conf[key] for key in ("task_always_eager", "task_default_queue")}
    app.conf.update(task_always_eager=False, task_default_queue=queue)
    try:
        yield
    finally:
        app.conf.update(previous)


@pytest.fixture
def worker_queue(redis_url: str) -> Iterator[str]:
    """Start a worker on a queue of its own (so no other worker on this Redis steals our tasks)
    and point this process's task sending at it."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    with sending_to(queue):
        process = start_worker(queue)
        try:
            yield queue
        finally:
            stop_worker(process)


@pytest.fixture
def redis_client(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url)


def runs_of(client: redis.Redis, token: str) -> int:
    return int(client.get(probe_key(token)) or 0)


def drain(client: redis.Redis) -> None:
    """The solo worker runs tasks in order: once a sentinel queued last has run, everything
    queued before it has been processed."""
    sentinel = uuid.uuid4().hex
    probe_count_run_task.delay(token=sentinel)
    wait_for(lambda: runs_of(client, sentinel) == 1, what="the sentinel task")


def test_it_runs_a_task_queued_on_commit_exactly_once(worker_queue, redis_client):
    token = uuid.uuid4().hex
    with transaction.atomic():
        transaction.on_commit(lambda: probe_count_run_task.delay(token=token))
        assert runs_of(redis_client, token) == 0  # nothing leaves before the commit

    wait_for(lambda: runs_of(redis_client, token) >= 1, what="the committed task")
    drain(redis_client)
    assert runs_of(redis_client, token) == 1


def test_it_never_runs_a_task_queued_in_a_rolled_back_transaction(worker_queue, redis_client):
    token = uuid.uuid4().hex

    def request_that_fails_after_queueing() -> None:
        with transaction.atomic():
            transaction.on_commit(lambda: probe_count_run_task.delay(token=token))
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError):
        request_that_fails_after_queueing()

    drain(redis_client)
    assert runs_of(redis_client, token) == 0


def test_it_sends_a_queued_email_through_the_worker(worker_queue, redis_client):
    require_service(
        connection.vendor == "postgresql",
        "the worker needs a shared database (set DATABASE_URL to PostgreSQL)",
    )
    with transaction.atomic():
        email = email_queue(
            to=["maya.mentor@example.org"], subject="You have a new mentee", text_body="Say hello."
        )

    def sent() -> bool:
        email.refresh_from_db()
        return email.status == OutboundEmail.Status.SENT

    wait_for(sent, what="the worker to send the email")
    drain(redis_client)
    email.refresh_from_db()
    assert email.attempts == 1
    assert email.text_body == ""  # erased once sent: bodies can hold sign-in links
