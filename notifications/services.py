from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from .email import email_render
from .models import Notification, OutboundEmail

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 5


@transaction.atomic
def email_queue(
    *, to: list[str], subject: str, text_body: str, html_body: str = ""
) -> OutboundEmail:
    """Store an email and send it from a worker once the surrounding transaction commits.

    If the transaction rolls back, neither the row nor the task exists: no email about something
    that did not happen."""
    from .tasks import email_send_task

    email = OutboundEmail.objects.create(
        to=to, subject=subject[:300], text_body=text_body, html_body=html_body
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


def notification_key(
    *, kind: str, recipient: User | str, about: models.Model | None, period: str = ""
) -> str:
    """What makes a notification the same one: its kind, what it is about, who gets it and, for a
    reminder that comes back, the period it is for ("2026-W48")."""
    who = recipient if isinstance(recipient, str) else f"user:{recipient.pk}"
    what = f"{about._meta.label_lower}:{about.pk}" if about is not None else "-"
    return ":".join(part for part in (kind, what, who.lower(), period) if part)[:200]


def notify(
    *,
    kind: Notification.Kind,
    recipient: User | str,
    about: models.Model | None,
    context: dict[str, Any],
    url: str = "",
    period: str = "",
) -> Notification | None:
    """The one way a message leaves the product: render the email for the recipient (in their
    own time zone), record it in their notification centre, and queue the email to be sent once
    the surrounding transaction commits.

    `recipient` is a person, or an address with no account yet (an invitation). `about` is the
    object the message is about; with `kind` and `period` it makes the key under which this is
    notified at most once: called again, nothing is recorded or sent and None comes back.
    `url` is the path of the page to act on."""
    user = None if isinstance(recipient, str) else recipient
    address = recipient if isinstance(recipient, str) else recipient.email
    key = notification_key(kind=kind, recipient=recipient, about=about, period=period)
    # Dates and times in the message read as the recipient's own clock shows them.
    zone = user.time_zone if user is not None and user.time_zone else settings.TIME_ZONE
    with timezone.override(zone):
        rendered = email_render(
            name=kind, context={"recipient": user, "time_zone": zone, "url": url, **context}
        )
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=user,
                email=address,
                kind=kind,
                key=key,
                title=rendered.subject[:300],
                url=url,
            )
    except IntegrityError:
        # Notified already (by an earlier call, or a concurrent one that committed first).
        return None
    notification.outbound_email = email_queue(
        to=[address],
        subject=rendered.subject,
        text_body=rendered.text_body,
        html_body=rendered.html_body,
    )
    notification.save(update_fields=["outbound_email"])
    return notification


def notification_read(*, notification: Notification) -> Notification:
    """Mark one notification read (it stays in the list)."""
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notification_read_all(*, user: User) -> int:
    """Mark every unread notification of `user` read; returns how many were unread."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
