"""Only one Celery beat sends the periodic tasks, however many are started.

The lock lives in the database the schedule is kept in (common/beat_lock.py): a session advisory
lock on PostgreSQL, an flock beside an SQLite file. The last test starts two real beats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
import time_machine
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from common.beat import GuardedDatabaseScheduler
from common.beat_lock import FileBeatLock, PostgresBeatLock
from mentorship.celery import app
from tests.conftest import require_service
from tests.ops.waiting import wait_for

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def on_postgresql(db) -> None:
    require_service(
        connection.vendor == "postgresql",
        "the beat lock is PostgreSQL's advisory lock (set DATABASE_URL to PostgreSQL)",
    )


def test_a_second_beat_cannot_take_the_lock_until_the_first_lets_go(on_postgresql):
    first, second = PostgresBeatLock(), PostgresBeatLock()
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        assert first.is_held()
        assert not second.is_held()

        first.release()

        assert second.try_acquire()
        assert second.is_held()
        assert not first.is_held()
    finally:
        first.release()
        second.release()


def test_a_beat_that_loses_its_connection_loses_the_lock_to_the_next(on_postgresql):
    first, second = PostgresBeatLock(), PostgresBeatLock()
    try:
        assert first.try_acquire()
        # What the server does when the beat's host vanishes or it stops checking in.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [first._connection.info.backend_pid])

        wait_for(second.try_acquire, what="the second beat to take the freed lock", seconds=5)
        assert not first.is_held()
    finally:
        first.release()
        second.release()


def test_on_sqlite_one_process_holds_the_file_lock(tmp_path):
    first, second = (FileBeatLock(path=tmp_path / "db.sqlite3.beat.lock") for _ in range(2))
    try:
        assert first.try_acquire()
        assert not second.try_acquire()

        first.release()

        assert second.try_acquire()
    finally:
        first.release()
        second.release()


class StubLock:
    """A beat lock the test hands out and takes back."""

    def __init__(self) -> None:
        self.free = False
        self.held = False

    def try_acquire(self) -> bool:
        self.held = self.free
        return self.held

    def is_held(self) -> bool:
        return self.held

    def release(self) -> None:
        self.held = False


def test_the_scheduler_sends_only_while_it_holds_the_lock(transactional_db, monkeypatch):
    # transactional_db: the scheduler closes "old" connections, as a beat should, which would
    # close the connection holding a test transaction.
    PeriodicTask.objects.create(
        name="probe",
        task="tests.celery_probe.probe_count_run_task",
        interval=IntervalSchedule.objects.create(every=1, period=IntervalSchedule.SECONDS),
        last_run_at=timezone.now() - timedelta(hours=1),
    )
    scheduler = GuardedDatabaseScheduler(app=app, lazy=True)
    lock = StubLock()
    scheduler._beat_lock = lock
    sent: list[str] = []

    def send(entry, producer=None) -> None:
        sent.append(entry.name)

    monkeypatch.setattr(scheduler, "apply_entry", send)
    monkeypatch.setattr(GuardedDatabaseScheduler, "producer", None)  # no broker needed
    try:
        waited = scheduler.tick()  # another beat holds the lock
        assert sent == []
        assert waited == scheduler.max_interval

        lock.free = True
        scheduler.tick()
        assert sent == ["probe"]

        lock.held = lock.free = False  # its database connection died; another beat took over
        with time_machine.travel(timezone.now() + timedelta(seconds=30), tick=True):  # now due
            scheduler.tick()
            scheduler.tick()
        assert sent == ["probe"]
    finally:
        scheduler.close()  # saves its run times now, not at exit when the database is gone


class Beat:
    """`celery beat` in a subprocess against the test database, its log in a file."""

    def __init__(self, name: str, log_dir: Path, env: dict[str, str]) -> None:
        self.log_path = log_dir / f"{name}.log"
        with self.log_path.open("w") as log_file:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "celery", "-A", "mentorship", "beat"),
                    *("--max-interval", "1", "--schedule", str(log_dir / f"{name}.schedule")),
                ],
                cwd=REPO_ROOT,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )

    def log(self) -> str:
        return self.log_path.read_text()

    def send_lines(self) -> list[str]:
        return [line for line in self.log().splitlines() if "Scheduler: Sending due task" in line]

    def sends(self) -> int:
        return len(self.send_lines())

    def send_times(self) -> list[datetime]:
        # The text log format starts with asctime: "2026-01-31 08:00:00,123".
        # Local time, but the same clock for both beats: only the order matters.
        return [
            datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=UTC)
            for line in self.send_lines()
        ]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # its own pid: never kill beats by name
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def start_beat(transactional_db, redis_url: str, tmp_path: Path) -> Iterator[Callable[[str], Beat]]:
    require_service(
        connection.vendor == "postgresql",
        "beats share the schedule through PostgreSQL (set DATABASE_URL to PostgreSQL)",
    )
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mentorship.settings.test",
        "LOG_FORMAT": "text",  # send_times() reads the text format
        # The beats must read the schedule this test commits: point them at the test database.
        "DATABASE_URL": (
            f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@"
            f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
        ),
    }
    beats: list[Beat] = []

    def start(name: str) -> Beat:
        beat = Beat(name, tmp_path, env)
        beats.append(beat)
        return beat

    yield start
    for beat in beats:
        beat.stop()
    for beat in beats:
        # pytest shows a failing test's output: the beats' logs explain it.
        sys.stdout.write(f"--- {beat.log_path.name}\n{beat.log()[-3000:]}\n")


@pytest.mark.worker
def test_two_beats_send_each_periodic_task_once_and_the_second_takes_over(start_beat, redis_url):
    # Every second, onto a queue no worker reads, so the broker keeps every message sent.
    queue = f"test-beat-{uuid.uuid4().hex[:12]}"
    PeriodicTask.objects.create(
        name=f"beat lock probe {queue}",
        task="tests.celery_probe.probe_count_run_task",
        kwargs=json.dumps({"token": queue}),
        queue=queue,
        interval=IntervalSchedule.objects.create(every=1, period=IntervalSchedule.SECONDS),
    )
    broker = redis.Redis.from_url(redis_url)
    try:
        first = start_beat("first")
        wait_for(lambda: "beat lock: taken" in first.log(), what="the first beat to take the lock")
        second = start_beat("second")
        wait_for(lambda: "another beat holds it" in second.log(), what="the second beat to wait")
        wait_for(lambda: first.sends() >= 5, what="the first beat to send five times")

        assert second.sends() == 0

        first.stop()
        wait_for(lambda: "beat lock: taken" in second.log(), what="the second beat to take over")
        wait_for(lambda: second.sends() >= 2, what="the second beat to send")
        second.stop()

        # Every message was sent once, by one beat at a time.
        assert broker.llen(queue) == first.sends() + second.sends()
        assert max(first.send_times()) < min(second.send_times())
    finally:
        broker.delete(queue)
