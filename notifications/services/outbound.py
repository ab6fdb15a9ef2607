"""Outbound email: queued after commit, claimed before sending, bodies erased once sent."""

from __future__ import annotations

import logging
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from notifications.models import OutboundEmail

logger = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 5


@transaction.atomic
def email_queue(
    *,
    to: list[str],
    subject: str,
    text_body: str,
    html_body: str = "",
    headers: dict[str, str] | None = None,
) -> OutboundEmail:
    """Store an email and send it from a worker once the surrounding transaction commits.

    If the transaction rolls back, neither the row nor the task exists: no email about something
    that did not happen."""
    from notifications.tasks import email_send_task

    email = OutboundEmail.objects.create(
        to=to,
        subject=subject[:300],
        text_body=text_body,
        html_body=html_body,
        headers=headers or {},
    )
    transaction.on_commit(partial(email_send_task.delay, email_id=email.pk))
    return email


def email_send(*, email_id: int) -> bool:
    """Send a queued email. Returns False when there was nothing to do (already sent, or claimed
    by another worker), so running it twice sends once.

    The row is claimed with a conditional UPDATE before the SMTP call; bodies are erased once sent
    because they can hold sign-in and password-reset links."""
    claimed = OutboundEmail.objects.filter(
        pk=email_id, status__in=[OutboundEmail.Status.QUEUED, OutboundEmail.Status.FAILED]
    ).update(status=OutboundEmail.Status.SENDING)
    if not claimed:
        return False
    email = OutboundEmail.objects.get(pk=email_id)
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.text_body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=email.to,
        headers=email.headers or None,
    )
    if email.html_body:
        message.attach_alternative(email.html_body, "text/html")
    try:
        message.send()
    except Exception as error:
        attempts = email.attempts + 1
        OutboundEmail.objects.filter(pk=email_id).update(
            status=OutboundEmail.Status.FAILED, attempts=attempts, last_error=str(error)[:2000]
        )
        logger.warning("email %s failed (attempt %s): %s", email_id, attempts, error)
        raise
    OutboundEmail.objects.filter(pk=email_id).update(
        status=OutboundEmail.Status.SENT,
        attempts=email.attempts + 1,
        sent_at=timezone.now(),
        text_body="",
        html_body="",
        last_error="",
    )
    return True
