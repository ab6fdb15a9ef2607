"""The program form shows only the settings the chosen kind uses, and a cohort's end date
follows its start date by the program's length, until the coordinator sets it by hand
(static/js/app.js; the server side is tested in tests/programs/test_first_week_edges.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from programs.services import coordinators_group_ensure
from tests.factories import ProgramFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_shows_circle_settings_only_for_circles(page: Page, live_server, sign_in):
    creator = UserFactory(email="pat@example.org", display_name="Pat Creator")
    coordinators_group_ensure().user_set.add(creator)
    sign_in(creator.email)
    page.goto(f"{live_server.url}/programs/new/")

    circle_size = page.get_by_label("Circle size")
    capacity = page.get_by_label("Mentees per mentor")
    expect(circle_size).to_be_hidden()
    expect(capacity).to_be_visible()

    # With the keyboard: the kind radios are native, so arrows and Space choose.
    page.check("input[name=kind][value=circle]")
    expect(circle_size).to_be_visible()
    page.check("input[name=kind][value=peer]")
    expect(circle_size).to_be_hidden()
    expect(capacity).to_be_hidden()


def test_it_moves_the_end_date_with_the_start_date(page: Page, live_server, sign_in):
    coordinator = UserFactory(email="corinne@example.org", display_name="Corinne Coordinator")
    program = ProgramFactory(coordinators=[coordinator], length_weeks=10)
    sign_in(coordinator.email)
    page.goto(f"{live_server.url}/programs/{program.pk}/cohorts/new/")

    page.fill("input[name=starts_on]", "2031-09-01")
    expect(page.locator("input[name=ends_on]")).to_have_value("2031-11-10")

    page.fill("input[name=ends_on]", "2031-12-19")
    page.fill("input[name=starts_on]", "2031-09-08")
    expect(page.locator("input[name=ends_on]")).to_have_value("2031-12-19")
