"""One-click unsubscribe: works without signing in, from the link or the mail program's button."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from notifications.models import Notification
from notifications.services import (
    UnsubscribeError,
    notification_preference_set,
    unsubscribe_token_read,
)


# A mail program's one-click POST (RFC 8058) carries no CSRF token; the signed token is the proof.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (link scanners fetch links, and must not unsubscribe anyone); POST applies."""
    # The user model by setting, not by import: accounts imports notifications (to send), so
    # notifications importing accounts would make the two apps a circle.
    User = get_user_model()
    try:
        user_id, kind = unsubscribe_token_read(token=token)
        user = User.objects.get(pk=user_id, is_active=True)
    except (UnsubscribeError, User.DoesNotExist):
        return render(request, "notifications/unsubscribe_invalid.html", status=400)
    context = {"kind_label": Notification.Kind(kind).label, "email": user.email}
    if request.method == "POST":
        try:
            notification_preference_set(user=user, kind=kind, email=False)
        except ValueError:
            return render(request, "notifications/unsubscribe_invalid.html", status=400)
        return render(request, "notifications/unsubscribe_done.html", context)
    return render(request, "notifications/unsubscribe_confirm.html", context)
