"""Writes of the notifications app, by area; import from here."""

from .notify import (
    notification_email_refused,
    notification_key,
    notification_read,
    notification_read_all,
    notify,
)
from .outbound import MAX_SEND_ATTEMPTS, email_queue, email_send
from .preferences import (
    UnsubscribeError,
    notification_preference_set,
    unsubscribe_headers,
    unsubscribe_token,
    unsubscribe_token_read,
    unsubscribe_url,
)

__all__ = [
    "MAX_SEND_ATTEMPTS",
    "UnsubscribeError",
    "email_queue",
    "email_send",
    "notification_email_refused",
    "notification_key",
    "notification_preference_set",
    "notification_read",
    "notification_read_all",
    "notify",
    "unsubscribe_headers",
    "unsubscribe_token",
    "unsubscribe_token_read",
    "unsubscribe_url",
]
