"""Which kinds of email a person wants, and the one-click unsubscribe every email carries."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse

from notifications.models import TRANSACTIONAL_KINDS, Notification, NotificationPreference

if TYPE_CHECKING:
    from accounts.models import User

UNSUBSCRIBE_SALT = "notifications.unsubscribe"
# Long enough for an old email to still work; a token carries no more power than "stop this kind".
UNSUBSCRIBE_MAX_AGE_SECONDS = 180 * 24 * 3600


class UnsubscribeError(Exception):
    """The link is not one of ours, was altered, or is too old: nothing changes."""


def notification_preference_set(*, user: User, kind: str, email: bool) -> NotificationPreference:
    """Turn one kind of email on or off for `user`. Transactional kinds cannot be turned off."""
    if kind not in Notification.Kind.values:
        raise ValueError(f"No kind of notification is called {kind!r}.")
    if not email and kind in TRANSACTIONAL_KINDS:
        raise ValueError(f"{kind!r} emails answer something the person did; they stay on.")
    with transaction.atomic():
        preference, _ = NotificationPreference.objects.update_or_create(
            user=user, kind=kind, defaults={"email": email}
        )
    return preference


def unsubscribe_token(*, user: User, kind: str) -> str:
    return signing.dumps({"user": user.pk, "kind": kind}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(*, user: User, kind: str) -> str:
    """The absolute link that turns this kind of email off, without signing in."""
    path = reverse("notifications:unsubscribe", args=[unsubscribe_token(user=user, kind=kind)])
    return f"{settings.SITE_URL}{path}"


def unsubscribe_headers(*, user: User, kind: str) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe: mail programs show an Unsubscribe button that POSTs."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(user=user, kind=kind)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def unsubscribe_token_read(*, token: str) -> tuple[int, str]:
    """The (user id, kind) a token names. Raises UnsubscribeError for a bad or expired one."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=UNSUBSCRIBE_MAX_AGE_SECONDS)
    except signing.BadSignature as error:  # SignatureExpired is a BadSignature too
        raise UnsubscribeError(str(error)) from error
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("user"), int)
        or data.get("kind") not in Notification.Kind.values
    ):
        raise UnsubscribeError("The link does not name a person and a kind of email.")
    return data["user"], data["kind"]


def notification_kinds_optional() -> list[Notification.Kind]:
    """The kinds a person may take out of their email (every kind but the transactional ones),
    in the order the settings page lists them."""
    return [kind for kind in Notification.Kind if kind not in TRANSACTIONAL_KINDS]


def notification_email_kinds_for(*, user: User) -> set[str]:
    """The optional kinds `user` gets by email (no preference row: by email)."""
    refused = set(
        NotificationPreference.objects.filter(user=user, email=False).values_list("kind", flat=True)
    )
    return {kind.value for kind in notification_kinds_optional() if kind not in refused}


def notification_preferences_update(*, user: User, email_kinds: Collection[str]) -> list[str]:
    """Set every optional kind at once: those in `email_kinds` come by email, the others reach
    the notification centre only. Transactional kinds stay on whatever is asked. Writes only the
    kinds that change (through notification_preference_set) and returns them."""
    unknown = set(email_kinds) - set(Notification.Kind.values)
    if unknown:
        raise ValueError(f"No kind of notification is called {sorted(unknown)!r}.")
    changed = []
    with transaction.atomic():
        current = notification_email_kinds_for(user=user)
        for kind in notification_kinds_optional():
            wanted = kind in email_kinds
            if wanted != (kind in current):
                notification_preference_set(user=user, kind=kind, email=wanted)
                changed.append(kind.value)
    return changed
