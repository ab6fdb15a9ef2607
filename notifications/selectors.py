"""Reads of a person's notifications, and of the outbox's depth for /healthz."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Case, Count, Max, Min, Q, QuerySet, Value, When
from django.utils import timezone

from common.db import any_of

from .models import Notification, OutboundEmail

if TYPE_CHECKING:
    from accounts.models import User


def notification_list_for(*, user: User) -> QuerySet[Notification]:
    """A person's own notifications, newest first: nobody else's are ever in it."""
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-pk")


def notification_todo_list_for(*, user: User, limit: int = 5) -> list[Notification]:
    """What the home page lists as a person's to-dos: their own notifications, the unread ones
    first, then newest first, at most `limit`."""
    unread_first = Case(When(read_at__isnull=True, then=Value(0)), default=Value(1))
    return list(
        Notification.objects.filter(recipient=user).order_by(unread_first, "-created_at", "-pk")[
            :limit
        ]
    )


def notification_last_recorded_at(*, kind: str, about: models.Model) -> dt.datetime | None:
    """When the latest notification of `kind` about `about` was recorded, to anyone: how a
    delivery under way (an announcement) shows it is still moving. A key starts with
    "<kind>:<app.model>:<pk>:" (notification_key), a prefix the key's index serves."""
    prefix = f"{kind}:{about._meta.label_lower}:{about.pk}:"
    return Notification.objects.filter(key__startswith=prefix).aggregate(at=Max("created_at"))["at"]


def outbound_email_backlog(*, stuck_after: dt.timedelta) -> dict[str, int | None]:
    """The outbox's depth for /healthz, in one query over the unsent rows only (the index on
    status keeps it cheap however many emails were ever sent): emails waiting to be sent, the
    age in seconds of the oldest of them, those failed with a retry still to come, and those
    SENDING for longer than `stuck_after` (their worker died)."""
    now = timezone.now()
    queued = Q(status=OutboundEmail.Status.QUEUED)
    figures = OutboundEmail.objects.filter(
        status__in=[
            OutboundEmail.Status.QUEUED,
            OutboundEmail.Status.SENDING,
            OutboundEmail.Status.FAILED,
        ]
    ).aggregate(
        queued=Count("pk", filter=queued),
        oldest=Min("created_at", filter=queued),
        retrying=Count("pk", filter=Q(status=OutboundEmail.Status.FAILED, due_at__isnull=False)),
        stuck=Count(
            "pk",
            filter=Q(status=OutboundEmail.Status.SENDING, claimed_at__lt=now - stuck_after),
        ),
    )
    oldest = figures.pop("oldest")
    return {
        **figures,
        "oldest_queued_seconds": round((now - oldest).total_seconds()) if oldest else None,
    }


def outbound_email_count_by_status() -> dict[str, int]:
    """Every email by status, for the full health report (a person reads it, not a probe)."""
    counts = dict(OutboundEmail.objects.order_by().values_list("status").annotate(n=Count("pk")))
    return {status: counts.get(status, 0) for status in OutboundEmail.Status.values}


def notification_keys_recorded(*, keys: set[str]) -> set[str]:
    """Which of `keys` are notified already, in one query (the reminder sweep asks this for
    every batch of a thousand)."""
    return set(Notification.objects.filter(any_of("key", keys)).values_list("key", flat=True))
