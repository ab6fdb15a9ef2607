"""Reads of a person's notifications."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Case, QuerySet, Value, When

from .models import Notification

if TYPE_CHECKING:
    from accounts.models import User


def notification_list_for(*, user: User) -> QuerySet[Notification]:
    """A person's own notifications, newest first: nobody else's are ever in it."""
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-pk")


def notification_unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_todo_list_for(*, user: User, limit: int = 5) -> list[Notification]:
    """What the home page lists as a person's to-dos: their own notifications, the unread ones
    first, then newest first, at most `limit`."""
    unread_first = Case(When(read_at__isnull=True, then=Value(0)), default=Value(1))
    return list(
        Notification.objects.filter(recipient=user).order_by(unread_first, "-created_at", "-pk")[
            :limit
        ]
    )
