"""notify() for many people at once: the same rendering, keys and preferences, in a fixed number
of statements whatever the number of people (a published cohort, a file of invitations)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction

from notifications.models import Notification

from .notify import (
    About,
    PreparedNotification,
    notification_email_refusals,
    notification_key,
    notification_prepare,
    notifications_record,
)

if TYPE_CHECKING:
    from accounts.models import User


@dataclass(frozen=True)
class Message:
    """One call of notify(), as data: see notify() for what each field means."""

    kind: Notification.Kind
    recipient: User | str
    about: About
    context: dict[str, Any] = field(default_factory=dict)
    url: str = ""
    period: str = ""


@transaction.atomic
def notify_many(*, messages: Sequence[Message]) -> set[str]:
    """Record and email every message as notify() would, one by one, and return the keys this
    call recorded (a key notified before is skipped, as notify() skips it, and so is the same
    message twice in one call).

    Each email is rendered for its recipient in their own time zone before anything is written,
    so callers keep a batch to a few hundred messages; the rows are written by
    notifications_record, the path the reminder sweep takes, and each email is queued once the
    transaction commits."""
    user_ids = {m.recipient.pk for m in messages if not isinstance(m.recipient, str)}
    refused = notification_email_refusals(user_ids=user_ids) if user_ids else set()
    prepared: list[PreparedNotification] = []
    seen: set[str] = set()
    for message in messages:
        key = notification_key(
            kind=message.kind,
            recipient=message.recipient,
            about=message.about,
            period=message.period,
        )
        if key in seen:
            continue
        seen.add(key)
        user_id = None if isinstance(message.recipient, str) else message.recipient.pk
        prepared.append(
            notification_prepare(
                kind=message.kind,
                recipient=message.recipient,
                about=message.about,
                context=message.context,
                url=message.url,
                period=message.period,
                email_refused=(user_id, message.kind) in refused,
                delivery=Notification.Delivery.EMAIL_NOW,
            )
        )
    return notifications_record(prepared=prepared)
