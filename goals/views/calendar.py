"""The calendar: a person's private, revocable .ics link of their upcoming meetings.

The feed takes no login (calendar apps cannot sign in): the unguessable token is the key, so
rotating it is how a leaked link is revoked. It carries times and a generic title only, never
a summary or note (see selectors.calendar_events_for)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods
from icalendar import Calendar, Event

from common.http import AuthenticatedHttpRequest
from goals import selectors, services
from goals.models import CalendarFeed

MEETING_LENGTH = dt.timedelta(minutes=60)


@login_required
@require_http_methods(["GET", "POST"])
def calendar_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method == "POST":
        services.calendar_feed_rotate(user=request.user)
        messages.success(request, "Here is your new link. The old one no longer works.")
        return redirect("goals:calendar_settings")
    feed = services.calendar_feed_get(user=request.user)
    url = request.build_absolute_uri(reverse("goals:calendar_feed", args=[feed.token]))
    return render(request, "goals/calendar_settings.html", {"feed_url": url})


@require_GET
def calendar_feed(request: AuthenticatedHttpRequest, token: str) -> HttpResponse:
    feed = get_object_or_404(CalendarFeed.objects.select_related("user"), token=token)
    calendar = Calendar()
    calendar.add("prodid", "-//Mentorship//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Mentoring")
    now = timezone.now()
    for item in selectors.calendar_events_for(user=feed.user):
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", now)
        event.add("dtstart", item.starts_at)
        event.add("dtend", item.starts_at + MEETING_LENGTH)
        event.add("summary", item.summary)
        event.add("description", item.description)
        calendar.add_component(event)
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    # The link is a secret: no shared cache may keep a copy.
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = 'inline; filename="mentoring.ics"'
    return response
