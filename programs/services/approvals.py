"""Approving everyone on the people list's filter at once, in the background (`BulkJob`).

The ids are frozen when the job is created: the job approves the people the coordinator was
shown the count of, and nobody who applies while it runs is approved without being seen.
Each batch goes through `enrolment_set_status`, so approving someone already approved changes
nothing, and people who withdrew keep their decision."""

from __future__ import annotations

import hashlib
import json
import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse

from accounts.models import User
from accounts.services import submission_claim, submission_record
from programs.models import BulkJob, Cohort, Enrolment
from programs.selectors import enrolment_list_for_cohort
from programs.services.enrolments import enrolment_set_status
from programs.services.jobs import bulk_job_run, bulk_job_start

ENROLMENT_APPROVE_BATCH_SIZE = 200
APPROVE_ALL_NOBODY = "Nobody matches this filter: there is no one to approve."
APPROVE_ALL_COUNT_CHANGED = (
    "The list changed since the count was shown: {count} now match. Check the count and "
    "confirm again."
)


def _people(count: int) -> str:
    return f"{count:,} {'person' if count == 1 else 'people'}"


def enrolment_approve_all_counts(
    *, cohort: Cohort, role: str = "", status: str = "", search: str = ""
) -> dict[str, int]:
    """How many people match the filter, and of them how many are approved already and how many
    withdrew (both left as they are): what the confirmation states, in one query."""
    return enrolment_list_for_cohort(
        cohort=cohort, role=role, status=status, search=search
    ).aggregate(
        total=Count("pk"),
        approved=Count("pk", filter=Q(status=Enrolment.Status.APPROVED)),
        withdrawn=Count("pk", filter=Q(status=Enrolment.Status.WITHDRAWN)),
    )


@transaction.atomic
def enrolment_approve_all_start(
    *,
    cohort: Cohort,
    started_by: User,
    role: str = "",
    status: str = "",
    search: str = "",
    expected_count: int | None = None,
    next_url: str = "",
    submission_token: uuid.UUID | None = None,
) -> BulkJob:
    """Queue a job approving everyone in `cohort` who matches the filter now. `expected_count`
    is the count the coordinator confirmed: when the list has changed since, nothing starts
    (ValidationError) so that they confirm the new count. The same form sent twice returns the
    first job (AlreadySubmittedError), and so does the same list while its job is under way."""
    submission_claim(user=started_by, token=submission_token, model=BulkJob)
    ids = sorted(
        enrolment_list_for_cohort(
            cohort=cohort, role=role, status=status, search=search
        ).values_list("pk", flat=True)
    )
    if not ids:
        raise ValidationError(APPROVE_ALL_NOBODY)
    if expected_count is not None and expected_count != len(ids):
        raise ValidationError(APPROVE_ALL_COUNT_CHANGED.format(count=f"{len(ids):,}"))
    digest = hashlib.sha256(json.dumps(ids).encode()).hexdigest()[:16]
    job = bulk_job_start(
        cohort=cohort,
        kind=BulkJob.Kind.APPROVE,
        key=f"cohort:{cohort.pk}:approve:{digest}",
        title=f"Approving {_people(len(ids))} in {cohort.name}",
        task_name="programs.tasks.enrolment_approve_job_execute_task",
        total=len(ids),
        created_by=started_by,
        payload={"ids": ids, "changed": 0, "skipped_withdrawn": 0},
        next_url=next_url or reverse("programs:enrolment_list", args=[cohort.pk]),
    )
    submission_record(user=started_by, token=submission_token, created=job)
    return job


def enrolment_approve_job_execute(*, job_id: int) -> BulkJob:
    """Approve a job's frozen list, ENROLMENT_APPROVE_BATCH_SIZE per transaction; `done` is the
    cursor into the list, so a run after a crash continues from the first batch not done."""
    return bulk_job_run(job_id=job_id, batch=_approve_batch, finish=_approve_finish)


def _approve_batch(job: BulkJob) -> int:
    ids = job.payload["ids"][job.done : job.done + ENROLMENT_APPROVE_BATCH_SIZE]
    if not ids:
        return 0
    cohort = Cohort.objects.get(pk=job.cohort_id)
    result = enrolment_set_status(
        cohort=cohort, enrolment_ids=ids, status=Enrolment.Status.APPROVED
    )
    job.payload["changed"] += result.changed
    job.payload["skipped_withdrawn"] += result.skipped_withdrawn
    BulkJob.objects.filter(pk=job.pk).update(payload=job.payload)
    return len(ids)


def _approve_finish(job: BulkJob) -> tuple[str, list[str]]:
    changed, withdrawn = job.payload["changed"], job.payload["skipped_withdrawn"]
    unchanged = job.total - changed - withdrawn
    details = []
    if unchanged > 0:
        details.append(f"Already approved, left as they were: {_people(unchanged)}.")
    if withdrawn:
        details.append(f"Withdrawn, left with their own decision: {_people(withdrawn)}.")
    return f"Approved {_people(changed)}.", details
