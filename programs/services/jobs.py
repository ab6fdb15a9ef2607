"""Background jobs over many people (`BulkJob`): starting one, or finding the one already under
way; the batch loop every job runs in; and resuming a job whose worker was lost.

What a job does is the domain's (matching publishes a run, programs emails invitations): it
hands `bulk_job_run` a `batch` function that does the next few hundred people and a `finish`
function that says how it went. The bookkeeping is here, once: each batch is one transaction
with the job's row locked (two copies of a task, say a redelivery and a resume, take turns and
never do a person twice), `done` moves with the batch that did the work, and a failure is stored
for the coordinator to read rather than leaving a bar that never moves."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from celery import current_app
from celery.app.task import Task
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from common.tasks import enqueue_on_commit
from programs.models import BulkJob, Cohort

logger = logging.getLogger(__name__)

# A batch takes seconds; a job that has not moved for this long has lost its worker (a crash, a
# broker that lost the task) and is queued again by the next press or by the periodic resume.
JOB_STALE_AFTER = dt.timedelta(minutes=10)

# Returns how many of the job's items it did (0: nothing left), in the caller's transaction.
BatchFunction = Callable[[BulkJob], int]
# Returns the outcome in a line and the lines the coordinator should read.
FinishFunction = Callable[[BulkJob], tuple[str, list[str]]]


def _task(name: str) -> Task:
    if name not in current_app.tasks:
        # Outside a worker the tasks modules may not be imported yet: autodiscover them.
        current_app.loader.import_default_modules()
    return current_app.tasks[name]


def _enqueue(job: BulkJob) -> None:
    # By name: a service that imported its app's tasks module would close an import circle.
    enqueue_on_commit(_task(job.task_name), job_id=job.pk)


@transaction.atomic
def bulk_job_start(
    *,
    cohort: Cohort,
    kind: BulkJob.Kind,
    key: str,
    title: str,
    task_name: str,
    total: int,
    created_by: User,
    payload: dict[str, Any] | None = None,
    next_url: str = "",
) -> BulkJob:
    """Queue a job acting on `key`, run by the Celery task named `task_name` (taking `job_id`)
    once this transaction commits; return it.

    Pressed twice: the job already queued or running for `key` comes back instead of a second one
    (and is queued again when it has stalled). A job for `key` that failed is queued again, from
    where it stopped, rather than started over."""
    # Not locked: a running batch holds the row, and a second press must not wait for it.
    active = BulkJob.objects.filter(key=key, status__in=BulkJob.ACTIVE_STATUSES).first()
    if active is not None:
        if active.updated_at < timezone.now() - JOB_STALE_AFTER:
            _requeue(active)
        return active
    failed = (
        BulkJob.objects.select_for_update()
        .filter(key=key, status=BulkJob.Status.FAILED)
        .order_by("-created_at", "-pk")
        .first()
    )
    if failed is not None:
        _requeue(failed)
        return failed
    job = BulkJob(
        cohort=cohort,
        kind=kind,
        key=key,
        title=title[:200],
        task_name=task_name,
        payload=payload or {},
        total=total,
        next_url=next_url,
        created_by=created_by,
    )
    try:
        with transaction.atomic():
            job.save()
    except IntegrityError:
        # A press at the same moment committed its job first: that one is ours too.
        return BulkJob.objects.get(key=key, status__in=BulkJob.ACTIVE_STATUSES)
    _enqueue(job)
    return job


def _requeue(job: BulkJob) -> None:
    BulkJob.objects.filter(pk=job.pk).update(
        status=BulkJob.Status.QUEUED, error="", updated_at=timezone.now(), finished_at=None
    )
    job.refresh_from_db()
    _enqueue(job)


def bulk_job_run(*, job_id: int, batch: BatchFunction, finish: FinishFunction) -> BulkJob:
    """Run a queued job to its end, one `batch` per transaction until a batch finds nothing left,
    then `finish`. Safe to run twice, or twice at once (the row lock serialises the batches), and
    after a crash: whatever the batches committed is done, and the rest is what is left."""
    claimed = BulkJob.objects.filter(pk=job_id, status=BulkJob.Status.QUEUED).update(
        status=BulkJob.Status.RUNNING, started_at=timezone.now(), updated_at=timezone.now()
    )
    job = BulkJob.objects.get(pk=job_id)
    if not claimed and job.status != BulkJob.Status.RUNNING:
        return job  # finished already, or failed and waiting for a coordinator
    try:
        while _batch_once(job_id, batch):
            pass
        with transaction.atomic():
            job = BulkJob.objects.select_for_update().get(pk=job_id)
            if job.status in BulkJob.ACTIVE_STATUSES:
                summary, details = finish(job)
                BulkJob.objects.filter(pk=job_id).update(
                    status=BulkJob.Status.DONE,
                    summary=summary[:300],
                    details=details,
                    finished_at=timezone.now(),
                    updated_at=timezone.now(),
                )
    except Exception as error:  # the coordinator must see a failure, not a bar that never moves
        logger.exception("bulk job %s failed", job_id)
        BulkJob.objects.filter(pk=job_id).update(
            status=BulkJob.Status.FAILED,
            error=f"{type(error).__name__}: {error}"[:2000],
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
    job.refresh_from_db()
    return job


@transaction.atomic
def _batch_once(job_id: int, batch: BatchFunction) -> bool:
    job = BulkJob.objects.select_for_update().get(pk=job_id)
    if job.status not in BulkJob.ACTIVE_STATUSES:
        return False
    count = batch(job)
    if not count:
        return False
    BulkJob.objects.filter(pk=job_id).update(done=F("done") + count, updated_at=timezone.now())
    return True


def bulk_job_resume_stale() -> int:
    """Queue again every job that has not moved for JOB_STALE_AFTER (its worker died, or the
    broker lost its task); it continues where it stopped. Returns how many were queued."""
    now = timezone.now()
    resumed = 0
    for job in BulkJob.objects.filter(
        status__in=BulkJob.ACTIVE_STATUSES, updated_at__lt=now - JOB_STALE_AFTER
    ):
        with transaction.atomic():
            # Claimed with a conditional UPDATE, so two sweeps at once queue it once.
            if BulkJob.objects.filter(pk=job.pk, updated_at=job.updated_at).update(updated_at=now):
                logger.warning("bulk job %s stalled since %s: queued again", job.pk, job.updated_at)
                _enqueue(job)
                resumed += 1
    return resumed
