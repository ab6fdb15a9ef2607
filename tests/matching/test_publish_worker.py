"""Publishing through a real Celery worker on Redis and PostgreSQL: the coordinator's press
answers at once with the job's page, the worker publishes every pair in batches and sends every
email once, a second press (or the task delivered again) changes nothing, and a worker killed
mid-job leaves a job that another worker resumes where it stopped. Skipped on a bare laptop,
failed under CI."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from matching.models import MatchRun, Proposal, Relationship
from matching.services import PUBLISH_BATCH_SIZE
from matching.tasks import match_run_publish_task
from notifications.models import Notification, OutboundEmail
from notifications.tasks import email_send_task
from programs.models import BulkJob, Cohort
from programs.services import JOB_STALE_AFTER, bulk_job_resume_stale
from tests.conftest import require_service
from tests.core.test_celery_worker import (  # noqa: F401 (fixtures)
    drain,
    redis_client,
    sending_to,
    start_worker,
    stop_worker,
)
from tests.factories import CohortFactory, MatchRunFactory, ProposalFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PAIRS = PUBLISH_BATCH_SIZE + 50  # two batches
# The test worker runs with the test settings, so it sends each email inline (eagerly) once its
# batch commits: slower than a deployed worker, which queues them for its siblings.
WAIT_SECONDS = 120


def wait_until(condition: Callable[[], bool], *, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out after {WAIT_SECONDS}s waiting for {what}")


class Workers:
    """Start workers on this test's own queue, each logging to a file (a busy worker would fill
    a pipe nobody reads and stall); stopped, and their logs shown, at the end."""

    def __init__(self, queue: str, logs: Path) -> None:
        self.queue, self.logs = queue, logs
        self.started: list[tuple[subprocess.Popen[str], IO[str]]] = []

    def start(self) -> subprocess.Popen[str]:
        log = (self.logs / f"worker-{len(self.started)}.log").open("w")
        process = start_worker(self.queue, log=log)
        self.started.append((process, log))
        return process

    def stop_all(self) -> None:
        for process, log in self.started:
            if process.poll() is None:
                stop_worker(process)
            log.close()
            sys.stdout.write(Path(log.name).read_text()[-3000:])


@pytest.fixture
def workers(redis_url: str, tmp_path: Path) -> Iterator[Workers]:
    require_service(
        connection.vendor == "postgresql",
        "the worker needs a shared database (set DATABASE_URL to PostgreSQL)",
    )
    queue = f"test-{uuid.uuid4().hex[:12]}"
    with sending_to(queue):
        started = Workers(queue, tmp_path)
        try:
            yield started
        finally:
            started.stop_all()


@pytest.fixture
def run(program) -> MatchRun:
    cohort = CohortFactory(program=program, status=Cohort.Status.MATCHING)
    run = MatchRunFactory(cohort=cohort)
    ProposalFactory.create_batch(PAIRS, run=run, decision=Proposal.Decision.ACCEPTED)
    return run


def emails_per_person() -> Counter[str]:
    kind = Notification.Kind.MATCH_PUBLISHED
    return Counter(Notification.objects.filter(kind=kind).values_list("email", flat=True))


def test_the_worker_publishes_every_pair_and_emails_everyone_once(
    client,
    coordinator,
    run,
    workers,
    redis_client,  # noqa: F811
):
    workers.start()
    client.force_login(coordinator)
    url = reverse("matching:run_publish", args=[run.pk])

    first = client.post(url)
    second = client.post(url)  # a double click, or a press while the worker runs

    job = BulkJob.objects.get()
    assert first.url == second.url == reverse("programs:job_detail", args=[job.pk])

    def published() -> bool:
        job.refresh_from_db()
        return job.is_finished

    wait_until(published, what="the worker to publish the run")
    assert (job.status, job.done, job.total) == ("done", PAIRS, PAIRS)
    assert job.summary == f"Published {PAIRS} pairs. Everyone in them is emailed."
    # The task delivered again (acks_late redelivers after a lost worker): nothing to do.
    match_run_publish_task.delay(job_id=job.pk)
    drain(redis_client)

    assert Relationship.objects.filter(source_run=run).count() == PAIRS
    assert OutboundEmail.objects.filter(status=OutboundEmail.Status.SENT).count() == 2 * PAIRS
    assert len(emails_per_person()) == 2 * PAIRS
    assert set(emails_per_person().values()) == {1}
    assert MatchRun.objects.get(pk=run.pk).published_at is not None


def test_a_job_whose_worker_is_killed_mid_way_is_resumed_by_another(
    client,
    coordinator,
    run,
    workers,
    redis_client,  # noqa: F811
):
    doomed = workers.start()
    client.force_login(coordinator)
    client.post(reverse("matching:run_publish", args=[run.pk]))
    job = BulkJob.objects.get()

    def first_batch_committed() -> bool:
        job.refresh_from_db()
        return job.done >= PUBLISH_BATCH_SIZE

    wait_until(first_batch_committed, what="the first batch")
    doomed.send_signal(signal.SIGKILL)  # while it sends the first batch's emails
    doomed.wait(timeout=15)
    job.refresh_from_db()
    assert (job.status, job.done) == ("running", PUBLISH_BATCH_SIZE), "killed mid-job"
    assert Relationship.objects.count() == PUBLISH_BATCH_SIZE

    # Minutes later the periodic resume finds it stalled and queues it for the next worker.
    BulkJob.objects.filter(pk=job.pk).update(
        updated_at=timezone.now() - JOB_STALE_AFTER - dt.timedelta(minutes=1)
    )
    workers.start()
    assert bulk_job_resume_stale() == 1

    def published() -> bool:
        job.refresh_from_db()
        return job.is_finished

    wait_until(published, what="another worker to finish the job")
    assert (job.status, job.done) == ("done", PAIRS)
    assert Relationship.objects.filter(source_run=run).count() == PAIRS
    # Everyone is notified once; the emails the killed worker had not sent yet are still
    # queued, for the outbox relay (played here) to send.
    assert set(emails_per_person().values()) == {1}
    assert len(emails_per_person()) == 2 * PAIRS
    for email_id in OutboundEmail.objects.filter(status=OutboundEmail.Status.QUEUED).values_list(
        "pk", flat=True
    ):
        email_send_task.delay(email_id=email_id)
    drain(redis_client)
    # At most the one email the worker was sending when killed is left "sending": the relay's
    # rule for those is the outbox's, not publishing's.
    sending = OutboundEmail.objects.filter(status=OutboundEmail.Status.SENDING).count()
    assert sending <= 1
    assert OutboundEmail.objects.filter(status="sent").count() == 2 * PAIRS - sending
