"""Sending a notification's email again, after it failed."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from common.tasks import enqueue_on_commit
from notifications.models import Notification, OutboundEmail


def notification_resend(*, notification: Notification) -> bool:
    """Queue the notification's email again when its last attempt FAILED; it is sent once the
    surrounding transaction commits. Returns False, changing nothing, when there is no email to
    resend: none was queued (in the app only, or left to the daily email), it is still queued
    or sending, or it was sent, whose body was erased by design (it can hold sign-in links).

    The FAILED -> QUEUED change is a conditional UPDATE, so two admins resending at once queue
    it once, and a worker that already claimed it is not raced."""
    email_id = notification.outbound_email_id
    if email_id is None:
        return False
    from notifications.tasks import email_send_task

    with transaction.atomic():
        requeued = OutboundEmail.objects.filter(
            pk=email_id, status=OutboundEmail.Status.FAILED
        ).update(status=OutboundEmail.Status.QUEUED, due_at=timezone.now())
        if requeued:
            enqueue_on_commit(email_send_task, email_id=email_id)
    return bool(requeued)
