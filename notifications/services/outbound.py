"""Outbound email: queued after commit, claimed before sending, bodies erased once sent, and
relayed again when its message to the worker was lost.

The outbox rule (the relay runs every minute, core.tasks.background_work_relay_task):
- QUEUED, or FAILED with attempts left, and not claimed within OUTBOX_RELAY_GRACE_SECONDS after
  `due_at`: its task was lost (broker down when it was queued, a queue lost with Redis), so it
  is published again. Claimed before sending, so a message that was not lost after all sends
  nothing twice.
- SENDING for more than OUTBOX_SENDING_TIMEOUT_SECONDS: its worker died during the send, and SMTP
  cannot say whether the message left. It is sent again once (at-least-once: a lost invitation
  or reminder is worse than a rare second copy), counted as an attempt and flagged
  `possible_duplicate`; stuck a second time, it is marked FAILED for an admin to resend.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from common.tasks import enqueue, enqueue_on_commit
from notifications.models import OutboundEmail

logger = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 5
# The send task's own retries (Celery autoretry): 30 s, 60 s, 120 s ... at most 15 minutes.
RETRY_BACKOFF_SECONDS = 30
RETRY_BACKOFF_MAX_SECONDS = 15 * 60

STUCK_RESENT = (
    "The worker stopped while sending this email (claimed at {claimed:%Y-%m-%d %H:%M:%S} UTC), so "
    "it may have left; it was sent again and may arrive twice."
)
STUCK_GIVEN_UP = (
    "The worker stopped while sending this email (claimed at {claimed:%Y-%m-%d %H:%M:%S} UTC), "
    "so it may have left; {why}, so it is not sent again automatically. Resend it if the "
    "recipient did not get it."
)
STUCK_TWICE = "it had already been sent again after the same problem"
STUCK_NO_ATTEMPTS_LEFT = "it has no attempts left"


def retry_delay(*, attempts: int) -> dt.timedelta:
    """When the send task retries itself after its `attempts`-th failure (Celery's back-off)."""
    seconds = RETRY_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, RETRY_BACKOFF_MAX_SECONDS))


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
    # A broker that is down costs a log line: the row is the outbox, and the relay sends it.
    enqueue_on_commit(email_send_task, email_id=email.pk)
    return email


def email_send(*, email_id: int) -> bool:
    """Send a queued email. Returns False when there was nothing to do (already sent, claimed by
    another worker, or failed with no attempts left), so running it twice sends once.

    The row is claimed with a conditional UPDATE before the SMTP call; bodies are erased once sent
    because they can hold sign-in and password-reset links. A failure is stored with the time of
    the next try, which the task's own retry or, failing that, the relay makes."""
    claimed = (
        OutboundEmail.objects.filter(pk=email_id)
        .filter(
            Q(status=OutboundEmail.Status.QUEUED)
            | Q(status=OutboundEmail.Status.FAILED, attempts__lt=MAX_SEND_ATTEMPTS)
        )
        .update(status=OutboundEmail.Status.SENDING, claimed_at=timezone.now())
    )
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
            status=OutboundEmail.Status.FAILED,
            attempts=attempts,
            last_error=str(error)[:2000],
            due_at=(
                timezone.now() + retry_delay(attempts=attempts)
                if attempts < MAX_SEND_ATTEMPTS
                else None
            ),
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


@dataclass(frozen=True)
class EmailRecovery:
    resent: int  # stuck once: back in the queue, flagged as a possible duplicate
    given_up: int  # stuck twice: FAILED, for an admin to resend


def email_recover_stuck(*, limit: int = 500) -> EmailRecovery:
    """Apply the outbox rule to emails SENDING past OUTBOX_SENDING_TIMEOUT_SECONDS (see the
    module's docstring): once, sent again as a possible duplicate; twice (or with no attempts
    left), FAILED.

    Each change is a conditional UPDATE on the row still being stuck, so two relays at once
    change it once, and a worker that finishes late keeps its SENT."""
    from notifications.tasks import email_send_task

    now = timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.OUTBOX_SENDING_TIMEOUT_SECONDS)
    stuck = list(
        OutboundEmail.objects.filter(
            status=OutboundEmail.Status.SENDING, claimed_at__lt=cutoff
        ).values_list("pk", "claimed_at", "possible_duplicate", "attempts")[:limit]
    )
    resent = given_up = 0
    for pk, claimed, was_duplicate, attempts in stuck:
        still_stuck = OutboundEmail.objects.filter(
            pk=pk, status=OutboundEmail.Status.SENDING, claimed_at=claimed
        )
        if was_duplicate or attempts + 1 >= MAX_SEND_ATTEMPTS:
            why = STUCK_TWICE if was_duplicate else STUCK_NO_ATTEMPTS_LEFT
            given_up += still_stuck.update(
                status=OutboundEmail.Status.FAILED,
                attempts=F("attempts") + 1,
                due_at=None,
                last_error=STUCK_GIVEN_UP.format(claimed=claimed, why=why),
            )
            logger.error("email %s stuck sending (%s); marked failed", pk, why)
            continue
        if still_stuck.update(
            status=OutboundEmail.Status.QUEUED,
            attempts=F("attempts") + 1,
            possible_duplicate=True,
            due_at=now,
            last_error=STUCK_RESENT.format(claimed=claimed),
        ):
            resent += 1
            logger.warning("email %s stuck sending since %s; sending it again", pk, claimed)
            enqueue(email_send_task, email_id=pk)
    return EmailRecovery(resent=resent, given_up=given_up)


def email_relay_due(*, limit: int = 500) -> int:
    """Publish again up to `limit` emails whose task was evidently lost: QUEUED or retryable
    FAILED and not claimed OUTBOX_RELAY_GRACE_SECONDS after they were due. Returns how many the
    broker took. Each one's `due_at` moves to now first, so it is not published again before
    another grace period has passed; the claim in email_send makes a spare message harmless."""
    now = timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.OUTBOX_RELAY_GRACE_SECONDS)
    due = OutboundEmail.objects.filter(
        Q(status=OutboundEmail.Status.QUEUED)
        | Q(status=OutboundEmail.Status.FAILED, attempts__lt=MAX_SEND_ATTEMPTS),
        due_at__lte=cutoff,
    )
    with transaction.atomic():
        # skip_locked: a second relay running at once takes other rows, not the same ones.
        ids = list(
            due.select_for_update(skip_locked=True)
            .order_by("due_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        OutboundEmail.objects.filter(pk__in=ids).update(due_at=now)
    if ids:
        logger.warning("relaying %s email(s) whose task was lost", len(ids))
    from notifications.tasks import email_send_task

    published = 0
    for pk in ids:
        if not enqueue(email_send_task, email_id=pk):
            break  # the broker is down: the rest wait for the next run
        published += 1
    return published
