from __future__ import annotations

from celery import shared_task

from .services.outbound import (
    MAX_SEND_ATTEMPTS,
    RETRY_BACKOFF_MAX_SECONDS,
    RETRY_BACKOFF_SECONDS,
    email_send,
)


# The task retries itself for a quick recovery; should that retry be lost with the broker, the
# relay sends the email once its `due_at` has passed (email_relay_due).
@shared_task(
    autoretry_for=(OSError,),
    retry_backoff=RETRY_BACKOFF_SECONDS,
    retry_backoff_max=RETRY_BACKOFF_MAX_SECONDS,
    max_retries=MAX_SEND_ATTEMPTS,
)
def email_send_task(*, email_id: int) -> bool:
    return email_send(email_id=email_id)
