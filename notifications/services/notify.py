"""The one way a message reaches a person: notify(), and marking what they have read."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from notifications.email import email_render
from notifications.models import TRANSACTIONAL_KINDS, Notification, NotificationPreference

from .outbound import email_queue
from .preferences import unsubscribe_headers, unsubscribe_url

if TYPE_CHECKING:
    from accounts.models import User


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
    delivery: Notification.Delivery = Notification.Delivery.EMAIL_NOW,
) -> Notification | None:
    """The one way a message leaves the product: render the email for the recipient (in their
    own time zone), record it in their notification centre, and queue the email to be sent once
    the surrounding transaction commits.

    `recipient` is a person, or an address with no account yet (an invitation). `about` is the
    object the message is about; with `kind` and `period` it makes the key under which this is
    notified at most once: called again, nothing is recorded or sent and None comes back.
    `url` is the path of the page to act on. `delivery` EMAIL_DAILY leaves the email to the
    person's daily bundle; a kind the person turned off reaches the notification centre only,
    unless it is transactional (TRANSACTIONAL_KINDS), which is never suppressed."""
    user = None if isinstance(recipient, str) else recipient
    address = recipient if isinstance(recipient, str) else recipient.email
    key = notification_key(kind=kind, recipient=recipient, about=about, period=period)
    if user is not None and notification_email_refused(user=user, kind=kind):
        delivery = Notification.Delivery.IN_APP
    # Dates and times in the message read as the recipient's own clock shows them.
    zone = user.time_zone if user is not None and user.time_zone else settings.TIME_ZONE
    unsubscribe = (
        unsubscribe_url(user=user, kind=kind)
        if user is not None and kind not in TRANSACTIONAL_KINDS
        else ""
    )
    with timezone.override(zone):
        rendered = email_render(
            name=kind,
            context={
                "recipient": user,
                "time_zone": zone,
                "url": url,
                "unsubscribe_url": unsubscribe,
                **context,
            },
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
                delivery=delivery,
            )
    except IntegrityError:
        # Notified already (by an earlier call, or a concurrent one that committed first).
        return None
    if delivery != Notification.Delivery.EMAIL_NOW:
        return notification
    notification.outbound_email = email_queue(
        to=[address],
        subject=rendered.subject,
        text_body=rendered.text_body,
        html_body=rendered.html_body,
        headers=(
            unsubscribe_headers(user=user, kind=kind)
            if user is not None and kind not in TRANSACTIONAL_KINDS
            else None
        ),
    )
    notification.save(update_fields=["outbound_email"])
    return notification


def notification_email_refused(*, user: User, kind: str) -> bool:
    """Whether `user` turned this kind of email off (transactional kinds cannot be)."""
    if kind in TRANSACTIONAL_KINDS:
        return False
    return NotificationPreference.objects.filter(user=user, kind=kind, email=False).exists()


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


# --- Many reminders at once (the sweep) --------------------------------------------------------


def notification_email_refusals(*, user_ids: set[int]) -> set[tuple[int, str]]:
    """The (person, kind) pairs among `user_ids` that are turned off by email, in one query."""
    return {
        (user_id, kind)
        for user_id, kind in NotificationPreference.objects.filter(
            user_id__in=user_ids, email=False
        ).values_list("user_id", "kind")
        if kind not in TRANSACTIONAL_KINDS
    }


def notification_prepare(
    *,
    kind: Notification.Kind,
    recipient: User,
    about: models.Model | None,
    context: dict[str, Any],
    url: str,
    period: str,
    email_refused: bool,
) -> Notification:
    """An unsaved reminder for `recipient`'s daily email: only its title is rendered now (in the
    recipient's zone); the daily email writes the rest. Record a list with notifications_record."""
    zone = recipient.time_zone or settings.TIME_ZONE
    with timezone.override(zone):
        subject = render_to_string(
            f"emails/{kind}-subject.txt",
            {"site_url": settings.SITE_URL, "recipient": recipient, "time_zone": zone, **context},
        )
    return Notification(
        recipient=recipient,
        email=recipient.email,
        kind=kind,
        key=notification_key(kind=kind, recipient=recipient, about=about, period=period),
        title=" ".join(subject.split())[:300],
        url=url,
        delivery=Notification.Delivery.IN_APP
        if email_refused
        else Notification.Delivery.EMAIL_DAILY,
    )


RECORD_CHUNK = 500


def notifications_record(*, notifications: list[Notification]) -> set[str]:
    """Insert prepared notifications in a few statements. A key recorded already (by an earlier
    sweep, or a concurrent one that committed first) is skipped by the unique constraint, as
    notify() does one at a time; returns the keys this call recorded.

    Django's bulk_create cannot say which rows a conflict skipped, hence `ON CONFLICT DO NOTHING
    RETURNING`, which PostgreSQL and SQLite (3.35+) both understand."""
    table = connection.ops.quote_name(Notification._meta.db_table)
    columns = ["recipient_id", "email", "kind", "key", "title", "url", "delivery", "created_at"]
    now = timezone.now()
    recorded: set[str] = set()
    for start in range(0, len(notifications), RECORD_CHUNK):
        chunk = notifications[start : start + RECORD_CHUNK]
        placeholders = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(chunk))
        params: list[Any] = []
        for n in chunk:
            params += [n.recipient_id, n.email, n.kind, n.key, n.title, n.url, n.delivery, now]
        quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({quoted}) VALUES {placeholders} "  # noqa: S608 (our names)
                f'ON CONFLICT ("key") DO NOTHING RETURNING "key"',
                params,
            )
            recorded.update(key for (key,) in cursor.fetchall())
    return recorded
