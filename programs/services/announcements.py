"""Writes for announcements: a coordinator's message to a cohort, or to one role in it, and its
delivery by a worker to each recipient's notification centre and inbox."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from common.tasks import enqueue, enqueue_on_commit
from notifications.models import Notification
from notifications.selectors import notification_last_recorded_at
from notifications.services import Message, notify_many
from programs.models import Announcement, Cohort
from programs.rules import ROLE_NOT_IN_PROGRAM, program_roles
from programs.selectors import announcement_recipient_list

logger = logging.getLogger(__name__)

ANNOUNCEMENT_NOBODY = "Nobody is approved in this cohort in that role yet, so nobody would read it."
# Recipients notified per transaction: their notifications commit (and their emails are queued)
# together, and the page that follows delivery moves on after each batch.
DELIVERY_BATCH_SIZE = 100


@transaction.atomic
def announcement_create(
    *, cohort: Cohort, role: str, subject: str, body: str, created_by: User, token: str
) -> Announcement:
    """Queue an announcement to everyone approved in `cohort` (`role` "") or those in one role;
    a worker delivers it once this transaction commits.

    `token` comes with the form: the same form submitted twice (a double click, a reload of the
    confirmation) returns the announcement the first submit made, and nothing is sent twice."""
    existing = Announcement.objects.filter(token=token, cohort=cohort).first()
    if existing is not None:
        return existing
    if role and role not in program_roles(cohort.program):
        raise ValidationError(ROLE_NOT_IN_PROGRAM.format(role=role))
    total = announcement_recipient_list(cohort=cohort, role=role).count()
    if not total:
        raise ValidationError(ANNOUNCEMENT_NOBODY)
    announcement = Announcement(
        cohort=cohort,
        role=role,
        subject=subject.strip(),
        body=body.strip(),
        created_by=created_by,
        token=token,
        total=total,
    )
    announcement.full_clean()
    try:
        with transaction.atomic():
            announcement.save()
    except IntegrityError:
        # The same form, submitted at the same moment, committed first.
        return Announcement.objects.get(token=token, cohort=cohort)
    from programs.tasks import announcement_deliver_task

    enqueue_on_commit(announcement_deliver_task, announcement_id=announcement.pk)
    return announcement


def announcement_deliver(*, announcement_id: int) -> Announcement:
    """Notify every recipient of an announcement, in batches (a fixed number of queries each),
    counting them in `delivered`.

    Safe to run twice, or twice at once: each notification's key (announcement and recipient)
    is notified once, so a second run (a redelivered task, a retry after a failure) skips those
    already done and reaches the rest. A sent announcement is left alone. A failure is stored on
    the announcement for the coordinator to read."""
    announcement = Announcement.objects.select_related("cohort__program", "created_by").get(
        pk=announcement_id
    )
    if announcement.status == Announcement.Status.SENT:
        return announcement
    ids = list(
        announcement_recipient_list(cohort=announcement.cohort, role=announcement.role).values_list(
            "pk", flat=True
        )
    )
    mine = Announcement.objects.filter(pk=announcement_id)
    mine.update(status=Announcement.Status.SENDING, total=len(ids), error="")
    context = {
        "announcement": announcement,
        "cohort": announcement.cohort,
        "program": announcement.cohort.program,
        "sender": announcement.created_by,
    }
    url = reverse("programs:announcement_detail", args=[announcement_id])
    try:
        for start in range(0, len(ids), DELIVERY_BATCH_SIZE):
            batch = ids[start : start + DELIVERY_BATCH_SIZE]
            with transaction.atomic():
                notify_many(
                    messages=[
                        Message(
                            kind=Notification.Kind.ANNOUNCEMENT,
                            recipient=user,
                            about=announcement,
                            context=context,
                            url=url,
                        )
                        for user in User.objects.filter(pk__in=batch).order_by("pk")
                    ]
                )
                # Never backwards: a second run going over the first's recipients again.
                mine.update(delivered=Greatest(F("delivered"), start + len(batch)))
    except Exception as error:  # the coordinator must see a failure, not a bar that never moves
        logger.exception("announcement %s failed", announcement_id)
        mine.update(
            status=Announcement.Status.FAILED,
            error=f"{type(error).__name__}: {error}"[:2000],
            finished_at=timezone.now(),
        )
    else:
        mine.update(status=Announcement.Status.SENT, delivered=len(ids), finished_at=timezone.now())
    announcement.refresh_from_db()
    return announcement


def announcement_relay(*, limit: int = 100) -> int:
    """Publish again the delivery of announcements whose worker message was lost, and return how
    many the broker took: one still queued OUTBOX_RELAY_GRACE_SECONDS after it was written (its
    task never ran), or one delivering that reached nobody new for ANNOUNCEMENT_STALLED_SECONDS
    (its worker died mid-way). Delivery is safe to run again: it continues with the people not
    yet notified, so a delivery that was only slow loses nothing either."""
    now = timezone.now()
    grace = now - dt.timedelta(seconds=settings.OUTBOX_RELAY_GRACE_SECONDS)
    stalled = now - dt.timedelta(seconds=settings.ANNOUNCEMENT_STALLED_SECONDS)
    candidates = list(
        Announcement.objects.filter(
            Q(status=Announcement.Status.QUEUED, created_at__lte=grace)
            | Q(status=Announcement.Status.SENDING, created_at__lte=stalled)
        ).order_by("created_at")[:limit]
    )
    from programs.tasks import announcement_deliver_task

    published = 0
    for announcement in candidates:
        if announcement.status == Announcement.Status.SENDING:
            moved_at = notification_last_recorded_at(
                kind=Notification.Kind.ANNOUNCEMENT, about=announcement
            )
            if moved_at is not None and moved_at > stalled:
                continue  # still reaching people: its worker is alive
        logger.warning(
            "announcement %s left %s: delivering it again", announcement.pk, announcement.status
        )
        if not enqueue(announcement_deliver_task, announcement_id=announcement.pk):
            break
        published += 1
    return published
