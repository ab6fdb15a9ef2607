"""The program's time zone for newcomers: people who join without giving one (an imported row
without a zone, an invited person's new account) start in it, so their reminders arrive at 8:00
on their clock rather than on UTC's."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import User
from programs import services
from tests.factories import TEST_PASSWORD
from tests.programs.test_coordinator_views import program_data
from tests.programs.test_import_services import imported

pytestmark = pytest.mark.django_db

HEADER = "Email,Role,Name,Time zone"


def test_an_imported_row_without_a_zone_takes_the_programs(cohort, coordinator):
    cohort.program.time_zone = "Australia/Sydney"
    cohort.program.save()
    rows = [
        HEADER,
        "ana.alves@example.org,Mentor,Ana Alves,",
        "ben.brook@example.org,Mentee,Ben Brook,America/New_York",
    ]

    imported(cohort, coordinator, "\r\n".join(rows).encode())

    zones = dict(User.objects.values_list("email", "time_zone"))
    assert zones["ana.alves@example.org"] == "Australia/Sydney"
    assert zones["ben.brook@example.org"] == "America/New_York"


def test_an_invited_persons_new_account_starts_in_the_programs_zone(cohort, coordinator):
    cohort.program.time_zone = "Asia/Kolkata"
    cohort.program.save()
    invitation = services.invitation_create(
        cohort=cohort, email="new.person@example.org", role="mentee", invited_by=coordinator
    )

    user, _ = services.invitation_accept(
        invitation=invitation, user=None, display_name="New Person", password=TEST_PASSWORD
    )

    assert user.time_zone == "Asia/Kolkata"


def test_the_settings_page_saves_the_zone_and_refuses_an_unknown_one(client, coordinator, program):
    client.force_login(coordinator)
    url = reverse("programs:program_edit", args=[program.pk])
    assert 'name="time_zone"' in client.get(url).content.decode()

    refused = client.post(url, program_data(time_zone="Mars/Olympus_Mons"))
    assert refused.status_code == 200
    assert "Select a valid choice" in refused.content.decode()

    saved = client.post(url, program_data(time_zone="Pacific/Auckland"))
    assert saved.status_code == 302
    program.refresh_from_db()
    assert program.time_zone == "Pacific/Auckland"
