"""Dates show in the person's own time zone, and that zone never leaks past their request."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_it_uses_the_persons_time_zone_during_their_request_only(client):
    seen = {}

    def spy(request):
        from django.http import HttpResponse

        seen["zone"] = timezone.get_current_timezone_name()
        return HttpResponse()

    from accounts.middleware import UserTimezoneMiddleware

    user = UserFactory(time_zone="Asia/Tokyo")
    request = client.get("/").wsgi_request
    request.user = user
    UserTimezoneMiddleware(spy)(request)

    assert seen["zone"] == "Asia/Tokyo"
    assert timezone.get_current_timezone_name() == "UTC"
