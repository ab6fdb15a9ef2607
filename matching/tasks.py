from __future__ import annotations

from celery import shared_task

from matching.services.publish import match_run_publish_execute
from matching.services.requests import mentor_request_expire_due
from matching.services.runs import match_run_execute

# A 10,000-person cohort takes seconds; the limit only stops a run that has gone wrong.
MATCH_RUN_TIME_LIMIT = 15 * 60


@shared_task(soft_time_limit=MATCH_RUN_TIME_LIMIT, time_limit=MATCH_RUN_TIME_LIMIT + 60)
def match_run_execute_task(*, run_id: int) -> str:
    return match_run_execute(run_id=run_id).status


# A thousand pairs take seconds; batches commit as they go, so a publish stopped by the limit, a
# crash or a lost worker continues from its last batch when it runs again (acks_late).
PUBLISH_TIME_LIMIT = 30 * 60


@shared_task(acks_late=True, soft_time_limit=PUBLISH_TIME_LIMIT, time_limit=PUBLISH_TIME_LIMIT + 60)
def match_run_publish_task(*, job_id: int) -> str:
    return match_run_publish_execute(job_id=job_id).status


@shared_task
def mentor_request_expire_due_task() -> int:
    return mentor_request_expire_due()
