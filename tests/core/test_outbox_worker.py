"""The outbox against a real worker on Redis: a queue lost mid-batch (as when Redis restarts
without its data) and a worker killed with SIGKILL mid-batch lose no email and, but for the one
whose send was cut, send none twice, once the relay has run. Each message "sent" is counted in
Redis by the workers' email backend (tests.celery_probe.ProbeEmailBackend).

Needs Redis and PostgreSQL (the workers read the rows this test commits); skipped on a bare
laptop, failed under CI. The shared Redis is never stopped: each test's worker listens on a
queue of its own, and losing the queue means deleting that one key. The relay runs here, in the
test process, with its timeouts shortened through settings."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.db import connection, transaction

from core.services import background_work_relay
from notifications.models import OutboundEmail
from notifications.services import email_queue
from tests.celery_probe import probe_email_key
from tests.conftest import require_service
from tests.core.test_celery_worker import (  # noqa: F401 (fixtures)
    drain,
    redis_client,
    sending_to,
    start_worker,
    stop_worker,
    wait_for,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

WORKER_SETTINGS = "tests.worker_settings"


@pytest.fixture
def queue(redis_url: str, redis_client: redis.Redis) -> Iterator[str]:  # noqa: F811
    require_service(
        connection.vendor == "postgresql",
        "the worker needs a shared database (set DATABASE_URL to PostgreSQL)",
    )
    name = f"test-outbox-{uuid.uuid4().hex[:12]}"
    with sending_to(name):
        yield name
    # A killed worker leaves its message "unacknowledged" in Redis, to be restored into our
    # queue an hour later: take ours out, and the queue itself.
    for tag, payload in redis_client.hscan_iter("unacked"):
        if name.encode() in payload:
            redis_client.hdel("unacked", tag)
            redis_client.zrem("unacked_index", tag)
    redis_client.delete(name, f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}")


@pytest.fixture
def worker_log(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "worker.log"
    yield path
    # pytest shows a test's captured output when it fails: the workers' log explains why.
    print(path.read_text()[-6000:] if path.exists() else "(no worker log)")  # noqa: T201


def queue_emails(count: int, token: str) -> list[int]:
    ids = []
    for number in range(count):
        with transaction.atomic():  # one request each, each publishing on commit
            email = email_queue(
                to=[f"person{number}@example.org"],
                subject=f"{token} #{number}",
                text_body="Your mentor is waiting to meet you.",
            )
        ids.append(email.pk)
    return ids


def statuses(ids: list[int]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in OutboundEmail.objects.filter(pk__in=ids).values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


def deliveries(client: redis.Redis, token: str, count: int) -> list[int]:
    return [int(client.get(probe_email_key(f"{token} #{n}")) or 0) for n in range(count)]


def settled(ids: list[int]) -> bool:
    """Nothing being sent and nothing changing for half a second: the worker is idle."""
    before = statuses(ids)
    if before.get(OutboundEmail.Status.SENDING):
        return False
    time.sleep(0.5)
    return statuses(ids) == before


def test_every_email_is_delivered_once_after_the_queue_is_lost_mid_batch(
    settings,
    queue,
    worker_log,
    redis_client,  # noqa: F811
):
    count, token = 40, uuid.uuid4().hex
    with worker_log.open("w") as log:
        worker = start_worker(
            queue, settings_module=WORKER_SETTINGS, log=log, PROBE_EMAIL_SECONDS="0.05"
        )
        try:
            ids = queue_emails(count, token)
            wait_for(lambda: statuses(ids).get("sent", 0) >= 5, what="the first emails")

            redis_client.delete(queue)  # the broker loses every message still waiting

            wait_for(lambda: settled(ids), what="the worker to finish what it held")
            lost = statuses(ids).get("queued", 0)
            assert lost > 0, "the test must lose messages to show anything"

            # The relay publishes again what was due more than a grace period ago.
            settings.OUTBOX_RELAY_GRACE_SECONDS = 0
            done = background_work_relay()
            assert done["emails_relayed"] == lost

            wait_for(lambda: statuses(ids) == {"sent": count}, what="every email to be sent")
            assert background_work_relay()["emails_relayed"] == 0
            drain(redis_client)
        finally:
            stop_worker(worker)

    assert deliveries(redis_client, token, count) == [1] * count
    assert not OutboundEmail.objects.filter(pk__in=ids, possible_duplicate=True).exists()


def test_a_worker_killed_mid_batch_leaves_no_email_stuck_after_the_relay(
    settings,
    queue,
    worker_log,
    redis_client,  # noqa: F811
):
    count, token = 12, uuid.uuid4().hex
    with worker_log.open("w") as log:
        worker = start_worker(
            queue, settings_module=WORKER_SETTINGS, log=log, PROBE_EMAIL_SECONDS="0.3"
        )
        ids = queue_emails(count, token)
        wait_for(
            lambda: statuses(ids).get("sent", 0) >= 2 and statuses(ids).get("sending") == 1,
            what="the worker to be in the middle of a send",
        )
        os.kill(worker.pid, signal.SIGKILL)  # its own pid, never by name
        worker.wait(timeout=10)

        stuck = OutboundEmail.objects.get(pk__in=ids, status=OutboundEmail.Status.SENDING)
        # A new worker takes the messages still queued; the killed one's stays unacknowledged.
        worker = start_worker(queue, settings_module=WORKER_SETTINGS, log=log)
        try:
            wait_for(
                lambda: statuses(ids) == {"sent": count - 1, "sending": 1},
                what="the new worker to send the rest",
            )
            settings.OUTBOX_SENDING_TIMEOUT_SECONDS = 1
            time.sleep(1.1)
            done = background_work_relay()
            assert done["emails_resent_after_stuck"] == 1

            wait_for(lambda: statuses(ids) == {"sent": count}, what="the stuck email to be sent")
            drain(redis_client)
        finally:
            stop_worker(worker)

    stuck.refresh_from_db()
    assert stuck.possible_duplicate is True
    assert stuck.attempts == 2
    sent = dict(zip(ids, deliveries(redis_client, token, count), strict=True))
    assert 1 <= sent.pop(stuck.pk) <= 2, "cut mid-send: it may have left before the kill"
    assert set(sent.values()) == {1}, "every other email left exactly once"
