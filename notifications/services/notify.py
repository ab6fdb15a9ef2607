"""The one way a message reaches a person: notify(), and marking what they have read."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from common.db import any_of
from common.tasks import enqueue
from notifications.email import RenderedEmail, email_render, subject_line
from notifications.models import (
    TRANSACTIONAL_KINDS,
    Notification,
    NotificationPreference,
    OutboundEmail,
)

from .outbound import email_queue
from .preferences import unsubscribe_headers, unsubscribe_url

if TYPE_CHECKING:
    from accounts.models import User


# What a notification is about: a saved object, or its (model label, pk) when the caller has only
# those (the reminder sweep reads plain rows).
About = models.Model | tuple[str, int] | None


def notification_key(*, kind: str, recipient: User | str, about: About, period: str = "") -> str:
    """What makes a notification the same one: its kind, what it is about, who gets it and, for a
    reminder that comes back, the period it is for ("2026-W48")."""
    who = recipient if isinstance(recipient, str) else f"user:{recipient.pk}"
    if isinstance(about, tuple):
        what = f"{about[0].lower()}:{about[1]}"
    else:
        what = f"{about._meta.label_lower}:{about.pk}" if about is not None else "-"
    return ":".join(part for part in (kind, what, who.lower(), period) if part)[:200]


def notify(
    *,
    kind: Notification.Kind,
    recipient: User | str,
    about: About,
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
    rendered = _email_render_for(kind=kind, user=user, context=context, url=url)
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
        headers=_email_headers(kind=kind, user=user),
    )
    notification.save(update_fields=["outbound_email"])
    return notification


def _email_render_for(
    *, kind: str, user: User | None, context: dict[str, Any], url: str
) -> RenderedEmail:
    # Dates and times in the message read as the recipient's own clock shows them.
    zone = user.time_zone if user is not None and user.time_zone else settings.TIME_ZONE
    unsubscribe = (
        unsubscribe_url(user=user, kind=kind)
        if user is not None and kind not in TRANSACTIONAL_KINDS
        else ""
    )
    with timezone.override(zone):
        return email_render(
            name=kind,
            context={
                "recipient": user,
                "time_zone": zone,
                "url": url,
                "unsubscribe_url": unsubscribe,
                **context,
            },
        )


def _email_headers(*, kind: str, user: User | None) -> dict[str, str] | None:
    if user is None or kind in TRANSACTIONAL_KINDS:
        return None
    return unsubscribe_headers(user=user, kind=kind)


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
            any_of("user_id", user_ids), email=False
        ).values_list("user_id", "kind")
        if kind not in TRANSACTIONAL_KINDS
    }


class NotificationRow(NamedTuple):
    """The columns of a notification to insert (see NEW_ROW_COLUMNS), as plain data: a sweep
    prepares a hundred thousand, and an unsaved model instance costs more than the rest."""

    recipient_id: int | None
    email: str
    kind: str
    key: str
    title: str
    url: str
    delivery: str


@dataclass(frozen=True)
class PreparedNotification:
    """A notification ready to record with notifications_record: its row and, when it is to be
    emailed now, its email, rendered already."""

    notification: NotificationRow
    email: RenderedEmail | None = None
    headers: dict[str, str] | None = None


def notification_prepare(
    *,
    kind: Notification.Kind,
    recipient: User | str,
    about: About,
    context: dict[str, Any],
    url: str,
    period: str,
    email_refused: bool,
    delivery: Notification.Delivery = Notification.Delivery.EMAIL_DAILY,
    key: str | None = None,
) -> PreparedNotification:
    """notify() for many at once, in two steps: prepare each (no query), then record them all
    with notifications_record. For the daily email only the title is rendered now (in the
    recipient's zone) and the daily email writes the rest; one to send now is rendered whole.
    `email_refused` is the recipient's preference (notification_email_refusals, read once for
    the lot): a refused email is recorded for the app only, as notify() does. `key`, when the
    caller has computed it already, is notification_key's for the same arguments."""
    user = None if isinstance(recipient, str) else recipient
    address = recipient if isinstance(recipient, str) else recipient.email
    if email_refused and kind not in TRANSACTIONAL_KINDS:
        delivery = Notification.Delivery.IN_APP
    key = key or notification_key(kind=kind, recipient=recipient, about=about, period=period)
    if delivery == Notification.Delivery.EMAIL_NOW:
        email = _email_render_for(kind=kind, user=user, context=context, url=url)
        row = NotificationRow(
            user.pk if user else None, address, kind, key, email.subject[:300], url, delivery
        )
        return PreparedNotification(row, email, _email_headers(kind=kind, user=user))
    zone = user.time_zone if user is not None and user.time_zone else settings.TIME_ZONE
    title = subject_line(
        f"emails/{kind}-subject.txt",
        {"site_url": settings.SITE_URL, "recipient": user, "time_zone": zone, **context},
        time_zone=zone,
    )[:300]
    return PreparedNotification(
        NotificationRow(user.pk if user else None, address, kind, key, title, url, delivery)
    )


RECORD_CHUNK = 500


def notifications_record(*, prepared: list[PreparedNotification]) -> set[str]:
    """Record prepared notifications in a few statements and queue the emails of those to send
    now (after commit, as email_queue does). A key recorded already (by an earlier sweep, or a
    concurrent one that committed first) is skipped by the unique constraint, as notify() does
    one at a time, and its email is dropped unsent; returns the keys this call recorded.

    Django's bulk_create cannot say which rows a conflict skipped, hence `ON CONFLICT DO NOTHING
    RETURNING`, which PostgreSQL and SQLite (3.35+) both understand. The emails are stored first
    so each notification is inserted already linked to its own."""
    recorded: set[str] = set()
    to_send: list[int] = []
    for start in range(0, len(prepared), RECORD_CHUNK):
        chunk = prepared[start : start + RECORD_CHUNK]
        emails = _emails_store(chunk)
        new_keys = _insert_new(chunk, emails)
        unsent = [e.pk for key, e in emails.items() if key not in new_keys]
        if unsent:  # notified before: the email made for it goes nowhere
            OutboundEmail.objects.filter(pk__in=unsent).delete()
        to_send += [e.pk for key, e in emails.items() if key in new_keys]
        recorded |= new_keys
    if to_send:
        transaction.on_commit(lambda: _emails_send_later(to_send))
    return recorded


NEW_ROW_COLUMNS = (
    "recipient_id",
    "email",
    "kind",
    "key",
    "title",
    "url",
    "delivery",
    "outbound_email_id",
)
# PostgreSQL types of NEW_ROW_COLUMNS, for the rows json_to_recordset() reads.
NEW_ROW_TYPES = ("bigint", "text", "text", "text", "text", "text", "text", "bigint")


def _emails_store(chunk: list[PreparedNotification]) -> dict[str, OutboundEmail]:
    """email_queue for many, in one INSERT: the emails of the chunk's notifications to send now,
    by notification key (queued only once their notification is recorded)."""
    keyed = {
        p.notification.key: OutboundEmail(
            to=[p.notification.email],
            subject=p.email.subject[:300],
            text_body=p.email.text_body,
            html_body=p.email.html_body,
            headers=p.headers or {},
        )
        for p in chunk
        if p.email is not None
    }
    if keyed:
        OutboundEmail.objects.bulk_create(list(keyed.values()))
    return keyed


def _insert_new(chunk: list[PreparedNotification], emails: dict[str, OutboundEmail]) -> set[str]:
    """Insert the chunk's rows whose key is new; returns their keys.

    On PostgreSQL the rows travel as one parameter: a statement of two parameters instead of
    thousands, which the driver would otherwise parse placeholder by placeholder."""
    table = connection.ops.quote_name(Notification._meta.db_table)
    quoted = ", ".join(connection.ops.quote_name(c) for c in (*NEW_ROW_COLUMNS, "created_at"))
    rows = [
        (*n, emails[n.key].pk if n.key in emails else None) for n in (p.notification for p in chunk)
    ]
    now = timezone.now()
    if connection.vendor == "postgresql":
        # The rows travel as one JSON document: the driver escapes one string, where arrays
        # (one per column) made it check every value of every column for quoting.
        columns = ", ".join(
            f"{connection.ops.quote_name(c)} {kind}"
            for c, kind in zip(NEW_ROW_COLUMNS, NEW_ROW_TYPES, strict=True)
        )
        sql = (
            f"INSERT INTO {table} ({quoted}) SELECT *, %s "  # noqa: S608 (our names)
            f"FROM json_to_recordset(%s::json) AS rows({columns})"
        )
        params: list[Any] = [
            now,
            json.dumps([dict(zip(NEW_ROW_COLUMNS, row, strict=True)) for row in rows]),
        ]
    else:
        width = len(NEW_ROW_COLUMNS) + 1
        values = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(rows))
        sql = f"INSERT INTO {table} ({quoted}) VALUES {values}"  # noqa: S608 (our names)
        params = [value for row in rows for value in (*row, now)]
    with connection.cursor() as cursor:
        cursor.execute(f'{sql} ON CONFLICT ("key") DO NOTHING RETURNING "key"', params)
        return {key for (key,) in cursor.fetchall()}


def _emails_send_later(email_ids: list[int]) -> None:
    from notifications.tasks import email_send_fanout_task

    # One message for the lot; the worker publishes one per email (publishing costs about a
    # millisecond each, which a sweep of thousands of urgent reminders should not wait for).
    # The relay sends what the broker refused, or what a dying worker left unpublished.
    enqueue(email_send_fanout_task, email_ids=email_ids)
