from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from notifications.selectors import notification_todo_list_for
from programs.selectors import home_summary_for

from .selectors import health_report

# How many of a person's notifications their home page lists; the rest are in the centre.
HOME_TODOS = 5


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """One front door. Anonymous visitors see what the product is; everyone else sees the places
    that are theirs: their to-dos (notifications, unread first), programs they coordinate,
    cohorts they take part in, the admin for staff."""
    if not request.user.is_authenticated:
        return render(request, "core/home_anonymous.html")
    summary = home_summary_for(user=request.user)
    todos = notification_todo_list_for(user=request.user, limit=HOME_TODOS)
    return render(request, "core/home.html", {"summary": summary, "todos": todos})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and compose: 200 when the site can serve (status "ok" or "degraded",
    saying what is), 503 when it cannot (database down, or the worker's heartbeat stale).
    `?full=1` adds counts by status, indented for a person. Served by core.middleware before
    sessions, auth and the rest, so it stays cheap when the site is busy."""
    full = request.GET.get("full") == "1"
    healthy, report = health_report(full=full)
    return JsonResponse(
        report, status=200 if healthy else 503, json_dumps_params={"indent": 2} if full else None
    )
