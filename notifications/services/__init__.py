"""Writes of the notifications app, by area; import from here."""

from .notify import (
    notification_email_refused,
    notification_key,
    notification_read,
    notification_read_all,
    notify,
)
from .outbound import MAX_SEND_ATTEMPTS, email_queue, email_send

__all__ = [
    "MAX_SEND_ATTEMPTS",
    "email_queue",
    "email_send",
    "notification_email_refused",
    "notification_key",
    "notification_read",
    "notification_read_all",
    "notify",
]
