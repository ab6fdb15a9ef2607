"""A coordinator sets up a program and a cohort, imports 30 people from a CSV with two bad rows,
reads the errors, fixes the file, imports, and approves everyone; a mentee from the file then
signs in and sees their place."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from programs.models import Enrolment
from programs.services import coordinators_group_ensure
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADER = "E-mail Address;Full Name;Participant Type;Dept.;Max mentees;Skills to offer"


def participants_csv(tmp_path: Path, *, broken: bool) -> Path:
    lines = [HEADER]
    for i in range(30):
        role = "Mentor" if i % 3 == 0 else "Mentee"
        email = "mo.mentee@example.org" if i == 1 else f"person{i}@example.org"
        name = "Mo Mentee" if i == 1 else f"Person {i}"
        capacity = "2" if role == "Mentor" else ""
        skills = "Negotiation, Public speaking" if role == "Mentor" else ""
        lines.append(f"{email};{name};{role};Sales;{capacity};{skills}")
    if broken:
        lines[5] = lines[5].replace("person4@example.org", "person4@")  # file line 6
        lines[12] = lines[12].replace("Mentee", "Boss")  # file line 13
    path = tmp_path / ("people-broken.csv" if broken else "people.csv")
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8-sig"))
    return path


def test_it_takes_a_coordinator_from_an_empty_program_to_an_approved_cohort(
    page: Page, live_server, tmp_path, sign_in
):
    coordinator = UserFactory(email="corinne@example.org", display_name="Corinne Coordinator")
    coordinators_group_ensure().user_set.add(coordinator)
    UserFactory(email="mo.mentee@example.org", display_name="Mo Mentee")  # can already sign in
    page.on("dialog", lambda dialog: dialog.accept())  # the data-confirm prompts
    sign_in(coordinator.email)
    page.get_by_role("link", name="Programs").first.click()
    page.get_by_role("link", name="New program").first.click()
    page.fill("input[name=name]", "Leadership Mentoring")
    page.check("input[name=kind][value=one_to_one]")
    page.get_by_role("button", name="Create program").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Leadership Mentoring")

    page.get_by_role("link", name="New cohort").first.click()
    page.fill("input[name=name]", "Spring")
    page.fill("input[name=starts_on]", "2027-03-01")
    page.fill("input[name=ends_on]", "2027-08-31")
    page.get_by_role("button", name="Create cohort").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Spring")

    page.get_by_role("link", name=re.compile("^Import")).first.click()
    page.set_input_files("input[type=file]", str(participants_csv(tmp_path, broken=True)))
    page.get_by_role("button", name="Upload and check").click()
    lines = page.locator(".import-problems__line")
    expect(lines).to_have_text(["6", "13"])
    expect(page.get_by_text("“person4@” is not a valid address")).to_be_visible()
    expect(page.get_by_text(re.compile("role “Boss” is not", re.I))).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^Import \d+"))).to_be_disabled()

    page.get_by_role("link", name="Upload another file").first.click()
    page.set_input_files("input[type=file]", str(participants_csv(tmp_path, broken=False)))
    page.get_by_role("button", name="Upload and check").click()
    page.get_by_role("button", name="Import 30 people").click()
    expect(page.get_by_text(re.compile("Imported 30 people"))).to_be_visible()

    page.check("#select-all")
    page.select_option("select[name=status]", "approved")
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.get_by_text(re.compile("30 people approved"))).to_be_visible()
    assert Enrolment.objects.filter(status=Enrolment.Status.APPROVED).count() == 30

    page.get_by_role("button", name="Sign out").first.click()
    sign_in("mo.mentee@example.org")
    expect(page.get_by_text("Leadership Mentoring")).to_be_visible()
    expect(page.get_by_text("Approved").first).to_be_visible()
