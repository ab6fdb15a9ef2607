from __future__ import annotations

from celery import shared_task

from .services.outbound import MAX_SEND_ATTEMPTS, email_send


@shared_task(
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_backoff_max=15 * 60,
    max_retries=MAX_SEND_ATTEMPTS,
)
def email_send_task(*, email_id: int) -> bool:
    return email_send(email_id=email_id)
