"""A real Celery worker logs, in JSON, the request id of the request that queued its task.
Needs Redis; skipped on a bare laptop, failed under CI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

from common.request_id import REQUEST_ID_HEADER
from mentorship.celery import app
from tests.ops.waiting import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db]

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def json_worker(redis_url: str, tmp_path: Path) -> Iterator[Path]:
    """A worker with LOG_FORMAT=json on a queue of its own; yields the file its log goes to."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    previous = {key: app.conf[key] for key in ("task_always_eager", "task_default_queue")}
    app.conf.update(task_always_eager=False, task_default_queue=queue)
    log_path = tmp_path / "worker.log"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "mentorship.settings.test", "LOG_FORMAT": "json"}
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                *("-m", "celery", "-A", "mentorship", "worker", "--pool=solo"),
                *("--queues", queue, "--include", "tests.ops.log_probe"),
                *("--without-gossip", "--without-mingle", "--without-heartbeat"),
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        yield log_path
    finally:
        app.conf.update(previous)
        process.terminate()  # its own pid: never kill workers by name
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        sys.stdout.write(log_path.read_text()[-4000:])


def logged_entries(log_path: Path) -> list[dict]:
    entries = []
    for line in log_path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:  # Celery's start-up banner is text
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


@pytest.mark.urls("tests.ops.log_probe")
def test_the_worker_logs_the_request_id_of_the_request_that_queued_the_task(
    json_worker: Path, client: Client
):
    token = uuid.uuid4().hex

    response = client.get("/probe/", {"token": token})

    def ran() -> list[dict]:
        return [entry for entry in logged_entries(json_worker) if entry.get("token") == token]

    wait_for(lambda: bool(ran()), what="the worker to run the task")
    entry = ran()[0]
    assert entry["message"] == "probe task ran"
    assert entry["request_id"] == response[REQUEST_ID_HEADER]
    assert entry["task"].startswith("tests.ops.log_probe.probe_log_task[")
