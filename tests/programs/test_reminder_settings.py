"""The program's reminder thresholds on its settings page: shown with their defaults, saved,
and an empty field keeps the default."""

from __future__ import annotations

import pytest
from django.urls import reverse

from goals.reminders import thresholds_for
from notifications.rules import DEFAULT_THRESHOLDS
from programs.models import Program
from tests.programs.test_coordinator_views import program_data

pytestmark = pytest.mark.django_db


def test_a_new_program_has_the_rules_default_thresholds() -> None:
    assert thresholds_for(Program()) == DEFAULT_THRESHOLDS


def test_the_settings_page_shows_the_reminders_with_their_defaults(client, coordinator, program):
    client.force_login(coordinator)

    page = client.get(reverse("programs:program_edit", args=[program.pk])).content.decode()

    assert '<legend class="field__label">Reminders</legend>' in page
    assert 'name="reminder_goal_due_soon_days"' in page
    assert "Days before a goal's target date to remind its owner. Default: 7." in page


def test_it_saves_a_threshold_and_an_empty_one_keeps_the_default(client, coordinator, program):
    client.force_login(coordinator)

    response = client.post(
        reverse("programs:program_edit", args=[program.pk]),
        program_data(reminder_goal_due_soon_days=3, reminder_check_in_grace_days=""),
    )

    assert response.status_code == 302
    program.refresh_from_db()
    assert program.reminder_goal_due_soon_days == 3
    assert program.reminder_check_in_grace_days == 7
    assert thresholds_for(program).goal_due_soon_days == 3


def test_it_refuses_a_threshold_out_of_range(client, coordinator, program):
    client.force_login(coordinator)

    response = client.post(
        reverse("programs:program_edit", args=[program.pk]),
        program_data(reminder_survey_response_percent=150),
    )

    assert response.status_code == 200
    program.refresh_from_db()
    assert program.reminder_survey_response_percent == 60
