from __future__ import annotations

from celery import shared_task

from programs.services.announcements import announcement_deliver
from programs.services.approvals import enrolment_approve_job_execute
from programs.services.invitations import invitation_job_execute
from programs.services.jobs import bulk_job_resume_stale

# Thousands of recipients take a minute or two; the limit only stops a delivery gone wrong, and
# a second run (acks_late redelivers after a lost worker) picks up where it stopped.
ANNOUNCEMENT_TIME_LIMIT = 30 * 60
# The same for jobs over many people (BulkJob): batches commit as they go, so a job stopped by
# the limit, a crash or a lost worker continues from its last batch when it runs again.
BULK_JOB_TIME_LIMIT = 30 * 60


@shared_task(
    acks_late=True, soft_time_limit=ANNOUNCEMENT_TIME_LIMIT, time_limit=ANNOUNCEMENT_TIME_LIMIT + 60
)
def announcement_deliver_task(*, announcement_id: int) -> str:
    return announcement_deliver(announcement_id=announcement_id).status


@shared_task(
    acks_late=True, soft_time_limit=BULK_JOB_TIME_LIMIT, time_limit=BULK_JOB_TIME_LIMIT + 60
)
def invitation_job_execute_task(*, job_id: int) -> str:
    return invitation_job_execute(job_id=job_id).status


@shared_task(
    acks_late=True, soft_time_limit=BULK_JOB_TIME_LIMIT, time_limit=BULK_JOB_TIME_LIMIT + 60
)
def enrolment_approve_job_execute_task(*, job_id: int) -> str:
    return enrolment_approve_job_execute(job_id=job_id).status


@shared_task
def bulk_job_resume_stale_task() -> int:
    return bulk_job_resume_stale()
