"""Reads of a person's notifications."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from .models import Notification

if TYPE_CHECKING:
    from accounts.models import User


def notification_list_for(*, user: User) -> QuerySet[Notification]:
    """A person's own notifications, newest first: nobody else's are ever in it."""
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-pk")


def notification_unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
