"""Writes of the notifications app, by area; import from here."""

from .bulk import Message, notify_many
from .digest import DIGEST_LOCAL_HOUR, daily_digest_send, daily_digest_send_for
from .notify import (
    PreparedNotification,
    notification_email_refusals,
    notification_email_refused,
    notification_key,
    notification_prepare,
    notification_read,
    notification_read_all,
    notifications_record,
    notify,
)
from .outbound import MAX_SEND_ATTEMPTS, email_queue, email_send
from .preferences import (
    UnsubscribeError,
    notification_email_kinds_for,
    notification_kinds_optional,
    notification_preference_set,
    notification_preferences_update,
    unsubscribe_headers,
    unsubscribe_token,
    unsubscribe_token_read,
    unsubscribe_url,
)
from .resend import notification_resend

__all__ = [
    "DIGEST_LOCAL_HOUR",
    "MAX_SEND_ATTEMPTS",
    "Message",
    "PreparedNotification",
    "UnsubscribeError",
    "daily_digest_send",
    "daily_digest_send_for",
    "email_queue",
    "email_send",
    "notification_email_kinds_for",
    "notification_email_refusals",
    "notification_email_refused",
    "notification_key",
    "notification_kinds_optional",
    "notification_preference_set",
    "notification_preferences_update",
    "notification_prepare",
    "notification_read",
    "notification_read_all",
    "notification_resend",
    "notifications_record",
    "notify",
    "notify_many",
    "unsubscribe_headers",
    "unsubscribe_token",
    "unsubscribe_token_read",
    "unsubscribe_url",
]
