"""The daily email: a person's reminders of the day, bundled into one message sent when their own
clock shows DIGEST_LOCAL_HOUR.

Exactly once, without a field to link many notifications to one email (Notification's
`outbound_email` is one-to-one): the bundle is itself a notification of kind DAILY_DIGEST whose
key holds the person's local date, so a second run that hour, or a concurrent one, finds the key
taken and sends nothing. What it bundles is a window of creation times that follows on from the
previous bundle's: [previous bundle's created_at - SETTLE, this bundle's created_at - SETTLE).
The windows never overlap, so nothing is bundled twice, and leave no gap, so nothing is lost;
SETTLE lets a reminder whose transaction was still open when the bundle was made join the next.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from notifications.email import email_render
from notifications.models import Notification
from notifications.rules import local_date, zone

from .notify import notification_email_refused, notification_key
from .outbound import email_queue
from .preferences import unsubscribe_headers, unsubscribe_url

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

# The local hour (0-23) the daily email, and on Mondays the coordinators' summary, goes out.
DIGEST_LOCAL_HOUR: int = getattr(settings, "REMINDER_EMAIL_LOCAL_HOUR", 8)
SETTLE = dt.timedelta(minutes=5)


@dataclass
class DigestResult:
    sent: int = 0
    failed: list[int] = field(default_factory=list)  # user ids


def is_local_hour(*, now: dt.datetime, time_zone: str, hour: int = DIGEST_LOCAL_HOUR) -> bool:
    return now.astimezone(zone(time_zone)).hour == hour


def daily_digest_send(*, now: dt.datetime | None = None) -> DigestResult:
    """For each person whose local hour is DIGEST_LOCAL_HOUR and who has reminders waiting for
    the daily email, queue one email listing them (with an unsubscribe header). Safe to run twice
    or concurrently: one bundle per person and local day. A failure for one person is logged and
    the others still get theirs."""
    now = now or timezone.now()
    result = DigestResult()
    last_bundle = Notification.objects.filter(
        recipient=OuterRef("recipient"), kind=Notification.Kind.DAILY_DIGEST
    ).order_by("-created_at")
    # People with a reminder newer than their last bundle's window (one query).
    waiting = (
        Notification.objects.filter(
            delivery=Notification.Delivery.EMAIL_DAILY,
            outbound_email__isnull=True,
            recipient__isnull=False,
            recipient__is_active=True,
        )
        .annotate(last_bundle=Subquery(last_bundle.values("created_at")[:1]))
        .filter(Q(last_bundle__isnull=True) | Q(created_at__gte=F("last_bundle") - SETTLE))
        .values_list("recipient_id", "recipient__time_zone")
        .distinct()
    )
    due = sorted({uid for uid, tz in waiting if is_local_hour(now=now, time_zone=tz)})
    if not due:
        return result
    for user in get_user_model().objects.filter(pk__in=due).order_by("pk"):
        try:
            if daily_digest_send_for(user=user, now=now) is not None:
                result.sent += 1
        except Exception:
            logger.exception("daily email for user %s failed", user.pk)
            result.failed.append(user.pk)
    return result


def daily_digest_send_for(*, user: User, now: dt.datetime) -> Notification | None:
    """Bundle `user`'s waiting reminders into one email; None when there was nothing to send
    or today's bundle was made already."""
    today = local_date(now, user.time_zone)
    key = notification_key(
        kind=Notification.Kind.DAILY_DIGEST, recipient=user, about=None, period=today.isoformat()
    )
    with transaction.atomic():
        previous = (
            Notification.objects.filter(recipient=user, kind=Notification.Kind.DAILY_DIGEST)
            .order_by("-created_at", "-pk")
            .values_list("created_at", flat=True)
            .first()
        )
        try:
            with transaction.atomic():
                # The claim: one bundle per person and local day (the key is unique).
                digest = Notification.objects.create(
                    recipient=user,
                    email=user.email,
                    kind=Notification.Kind.DAILY_DIGEST,
                    key=key,
                    title="",
                    url=reverse("notifications:centre"),
                    delivery=Notification.Delivery.EMAIL_NOW,
                )
        except IntegrityError:
            return None
        window = Notification.objects.filter(
            recipient=user,
            delivery=Notification.Delivery.EMAIL_DAILY,
            outbound_email__isnull=True,
            created_at__lt=digest.created_at - SETTLE,
        ).exclude(pk=digest.pk)
        if previous is not None:
            window = window.filter(created_at__gte=previous - SETTLE)
        items = list(window.order_by("created_at", "pk"))
        if not items:
            # Nothing to send: give the day back, so a reminder later this hour still goes.
            transaction.set_rollback(True)
            return None
        with timezone.override(user.time_zone or settings.TIME_ZONE):
            rendered = email_render(
                name=Notification.Kind.DAILY_DIGEST,
                context={
                    "recipient": user,
                    "time_zone": user.time_zone,
                    "items": items,
                    "today": today,
                    "url": digest.url,
                    "unsubscribe_url": unsubscribe_url(
                        user=user, kind=Notification.Kind.DAILY_DIGEST
                    ),
                },
            )
        digest.title = rendered.subject[:300]
        if notification_email_refused(user=user, kind=Notification.Kind.DAILY_DIGEST):
            # They turned the daily email off: the reminders stay in the notification centre.
            digest.delivery = Notification.Delivery.IN_APP
            digest.save(update_fields=["title", "delivery"])
            return digest
        digest.outbound_email = email_queue(
            to=[user.email],
            subject=rendered.subject,
            text_body=rendered.text_body,
            html_body=rendered.html_body,
            headers=unsubscribe_headers(user=user, kind=Notification.Kind.DAILY_DIGEST),
        )
        digest.save(update_fields=["title", "outbound_email"])
        return digest
