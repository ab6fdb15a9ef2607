"""Exporting a cohort's participants and importing the file again is the identity: whatever
people typed (commas, quotes, semicolons, a leading "=" a spreadsheet would run, accents), the
file the coordinator downloads, once imported into a new cohort by people the app has never seen,
exports again byte for byte the same rows — as CSV and as XLSX."""

from __future__ import annotations

import csv
import io
from typing import Any, cast

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from accounts.models import User
from programs import services
from programs.models import Cohort, Enrolment
from tests.factories import (
    CohortFactory,
    CompetencyFactory,
    EnrolmentCompetencyFactory,
    EnrolmentFactory,
    ProfileFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TERMS = ["Negotiation", "Public speaking", "Data analysis", "Café culture"]
LANGUAGES = ["English", "German", "Português"]
ZONES = ["Europe/London", "America/New_York", "Asia/Kolkata"]

# What people type on one line: letters (some accented), digits, spaces and the punctuation that
# trips CSV and spreadsheets up. Values are in the form the import keeps (trimmed, single spaces).
words = st.text(
    alphabet=st.sampled_from("abcXYZéøß019 ,;\"'=+-@()/&"), min_size=1, max_size=20
).map(lambda text: " ".join(text.split()))
one_line = st.one_of(st.just(""), words)
paragraphs = st.one_of(
    st.just(""), st.lists(words.filter(bool), min_size=1, max_size=3).map("\n".join)
)
term_lists = st.lists(st.sampled_from(TERMS), unique=True, max_size=3)

participant = st.fixed_dictionaries(
    {
        "display_name": words.filter(bool),
        "role": st.sampled_from([Enrolment.Role.MENTOR, Enrolment.Role.MENTEE]),
        "department": one_line,
        "job_title": one_line,
        "job_level": st.none() | st.integers(1, 8),
        "location": one_line,
        "time_zone": st.sampled_from(ZONES),
        "languages": st.lists(st.sampled_from(LANGUAGES), unique=True, max_size=2),
        "capacity": st.integers(1, 5),
        "has_manager": st.booleans(),
        "develop": term_lists,
        "seek": term_lists,
        "offer": term_lists,
        "expertise": term_lists,
        "development_goals": paragraphs,
        "hopes": paragraphs,
        "availability": one_line,
    }
)


def enrol_everyone(cohort: Cohort, people: list[dict[str, Any]]) -> None:
    users = [
        UserFactory(
            email=f"person{n}@example.org", display_name=p["display_name"], time_zone=p["time_zone"]
        )
        for n, p in enumerate(people)
    ]
    for n, (user, p) in enumerate(zip(users, people, strict=True)):
        ProfileFactory(
            user=user,
            department=p["department"],
            job_title=p["job_title"],
            job_level=p["job_level"],
            location=p["location"],
            languages=p["languages"],
            # The person before them manages them (the first has nobody to report to).
            manager=users[n - 1] if n and p["has_manager"] else None,
        )
        enrolment = EnrolmentFactory(
            cohort=cohort,
            user=user,
            role=p["role"],
            # What an import leaves them as; the status column is for reading, not importing.
            status=Enrolment.Status.INVITED,
            capacity=p["capacity"] if p["role"] == Enrolment.Role.MENTOR else None,
            development_goals=p["development_goals"],
            hopes=p["hopes"],
            availability=p["availability"],
        )
        for kind in ("develop", "seek", "offer", "expertise"):
            for name in p[kind]:
                EnrolmentCompetencyFactory(
                    enrolment=enrolment, competency=CompetencyFactory(name=name), kind=kind
                )


def exported(client: Client, cohort: Cohort, file_format: str) -> tuple[bytes, list[list[str]]]:
    """The downloaded file and the rows a spreadsheet would show."""
    response = client.get(reverse("programs:enrolment_export", args=[cohort.pk, file_format]))
    assert response.status_code == 200
    if file_format == "csv":
        text = response.content.decode("utf-8-sig")
        return response.content, list(csv.reader(io.StringIO(text)))
    sheet = cast(Worksheet, load_workbook(io.BytesIO(response.content)).active)
    rows = [
        ["" if cell is None else str(cell) for cell in row]
        for row in sheet.iter_rows(values_only=True)
    ]
    return response.content, rows


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    people=st.lists(participant, min_size=1, max_size=5),
    file_format=st.sampled_from(["csv", "xlsx"]),
)
def test_exporting_and_importing_again_changes_nothing(
    client, coordinator, cohort, people, file_format
):
    with transaction.atomic():  # each example starts from the same database
        client.force_login(coordinator)
        enrol_everyone(cohort, people)
        content, before = exported(client, cohort, file_format)
        # Import into a new cohort, as people the app has never seen.
        User.objects.filter(email__startswith="person").delete()
        new_cohort = CohortFactory(program=cohort.program, name="Autumn")
        participant_import = services.participant_import_create(
            cohort=new_cohort,
            uploaded_by=coordinator,
            filename=f"participants.{file_format}",
            content=content,
        )
        result = services.participant_import_run(participant_import=participant_import)
        _, after = exported(client, new_cohort, file_format)
        transaction.set_rollback(True)

    assert result.created_people == len(people)
    assert after == before
