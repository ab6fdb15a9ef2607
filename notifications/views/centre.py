"""The notification centre: a person's own notifications, following one, marking them read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from common.http import AuthenticatedHttpRequest
from notifications.models import Notification
from notifications.selectors import notification_list_for
from notifications.services import notification_read, notification_read_all

PAGE_SIZE = 50


def _own(request: AuthenticatedHttpRequest, pk: int) -> Notification:
    # Someone else's notification is a 404, exactly like one that does not exist.
    return get_object_or_404(notification_list_for(user=request.user), pk=pk)


def _safe_target(url: str) -> str:
    """The notification's page when it is a path on this site; "" for anything else. Only a
    relative URL starting with one "/" is followed: "//host", "/\\host" and "https://..." are
    not, so a stored URL can never send the person to another site."""
    if url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        return url
    return ""


def _centre_url(request: AuthenticatedHttpRequest) -> str:
    """Back to the centre, on the page the person was on."""
    url = reverse("notifications:centre")
    page = request.POST.get("page", "")
    return f"{url}?page={page}" if page.isdigit() and page != "1" else url


@login_required
@require_GET
def centre(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(notification_list_for(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "notifications/notification_list.html", {"page": page})


# A GET, so each item is an ordinary link (it can open in a new tab). It changes nothing but the
# person's own read mark, and redirects only to a path on this site.
@login_required
@require_GET
def notification_open(request: AuthenticatedHttpRequest, pk: int) -> HttpResponseRedirect:
    notification = notification_read(notification=_own(request, pk))
    return redirect(_safe_target(notification.url) or reverse("notifications:centre"))


@login_required
@require_POST
def notification_mark_read(request: AuthenticatedHttpRequest, pk: int) -> HttpResponseRedirect:
    notification_read(notification=_own(request, pk))
    return redirect(_centre_url(request))


@login_required
@require_POST
def notification_mark_all_read(request: AuthenticatedHttpRequest) -> HttpResponseRedirect:
    count = notification_read_all(user=request.user)
    if count:
        messages.success(
            request, f"Marked {count} notification{'s' if count != 1 else ''} as read."
        )
    else:
        messages.info(request, "Nothing was unread.")
    return redirect(_centre_url(request))
