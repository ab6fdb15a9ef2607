"""Rough edges a first coordinator meets setting up (issue 15): fields shown only where they
apply, a cohort's end date filled from the program's length, starting a cohort early only once
confirmed, and the vocabulary table without a stray "None"."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from programs import services
from programs.models import Cohort, CompetencySynonym, Program
from tests.factories import CompetencyFactory, RelationshipFactory

pytestmark = pytest.mark.django_db


def program_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Graduate Mentoring",
        "kind": Program.Kind.ONE_TO_ONE,
        "meeting_cadence_days": 14,
        "length_weeks": 26,
        "default_mentor_capacity": 2,
        "agreement_template": "We meet every fortnight and keep it confidential.",
        "time_zone": "UTC",
    }
    data.update(overrides)
    return data


def label_of(page: str, field_id: str) -> str:
    """The text of a field's label, its required marker included."""
    match = re.search(rf'<label[^>]*for="{field_id}"[^>]*>(.*?)</label>', page, re.S)
    assert match, field_id
    return re.sub(r"<[^>]+>", "", match.group(1))


def wrapper_of(page: str, field_id: str) -> str:
    """The opening tag of the kind-scoped wrapper around a field."""
    start = page.index(f'for="{field_id}"')
    return page[page.rindex('<div class="kind-scoped"', 0, start) :].split(">", 1)[0]


# --- 1. Each field only where it applies ------------------------------------------------------


def test_it_asks_circle_settings_only_of_group_circles(client, program_creator):
    client.force_login(program_creator)
    url = reverse("programs:program_create")

    page = client.get(url).content.decode()

    # Not marked required, and marked as circle-only for app.js to hide for other kinds.
    assert label_of(page, "id_circle_size") == "Circle size"
    assert label_of(page, "id_mentors_per_circle") == "Mentors per circle"
    assert 'data-kinds="circle"' in wrapper_of(page, "id_circle_size")
    assert "peer" not in wrapper_of(page, "id_default_mentor_capacity")

    # Without JavaScript: a one-to-one program needs no circle settings ...
    response = client.post(url, program_data())
    assert response.status_code == 302
    program = Program.objects.get(name="Graduate Mentoring")
    assert (program.circle_size, program.mentors_per_circle) == (5, 1)

    # ... and a circle program must give its size.
    response = client.post(
        url, program_data(name="Circles", kind=Program.Kind.CIRCLE, mentors_per_circle=1)
    )
    assert response.status_code == 200
    assert response.context["form"].errors["circle_size"] == ["This field is required."]
    assert not Program.objects.filter(name="Circles").exists()


def test_it_hides_what_a_fixed_kind_never_uses(client, coordinator, program, cohort):
    # `cohort` is enrolling, so the one-to-one program's kind can no longer change.
    client.force_login(coordinator)

    page = client.get(reverse("programs:program_edit", args=[program.pk])).content.decode()

    assert " hidden" in wrapper_of(page, "id_circle_size")
    assert " hidden" not in wrapper_of(page, "id_default_mentor_capacity")


def test_it_does_not_mark_a_blank_new_question_row_required(client, coordinator, cohort):
    cohort.questions.create(text="Which team?", position=0)
    client.force_login(coordinator)
    url = reverse("programs:cohort_questions", args=[cohort.pk])

    page = client.get(url).content.decode()

    assert label_of(page, "id_questions-0-text") == "Question*"
    assert label_of(page, "id_questions-1-text") == "Question"
    assert label_of(page, "id_questions-1-answer_kind") == "Answer"
    # A new row with only its answer kind changed is skipped, as the page says.
    response = client.post(
        url,
        {
            "questions-TOTAL_FORMS": "2",
            "questions-INITIAL_FORMS": "1",
            "questions-0-id": str(cohort.questions.get().pk),
            "questions-0-text": "Which team?",
            "questions-0-answer_kind": "short",
            "questions-1-text": "",
            "questions-1-answer_kind": "long",
        },
    )
    assert response.status_code == 302
    assert list(cohort.questions.values_list("text", flat=True)) == ["Which team?"]


# --- 4. A cohort's end date, and starting it early ------------------------------------------


def test_it_fills_a_new_cohorts_end_date_from_the_programs_length(client, coordinator, program):
    program.length_weeks = 12
    program.save()
    client.force_login(coordinator)
    url = reverse("programs:cohort_create", args=[program.pk])

    form = client.get(url).context["form"]
    starts_on = form.initial["starts_on"]
    assert form.initial["ends_on"] == starts_on + dt.timedelta(weeks=12)
    assert "runs for 12 weeks" in str(form["ends_on"].help_text)

    response = client.post(url, {"name": "Autumn", "starts_on": "2031-09-01", "ends_on": ""})

    assert response.status_code == 302
    assert Cohort.objects.get(name="Autumn").ends_on == dt.date(2031, 11, 24)


def test_it_asks_before_starting_a_cohort_before_its_start_date(client, coordinator, program):
    cohort = RelationshipFactory(
        cohort__program=program,
        cohort__status=Cohort.Status.MATCHING,
        cohort__starts_on=dt.date(2031, 9, 1),
        cohort__ends_on=dt.date(2032, 3, 1),
    ).cohort
    client.force_login(coordinator)
    url = reverse("programs:cohort_transition", args=[cohort.pk])

    page = client.get(reverse("programs:cohort_detail", args=[cohort.pk])).content.decode()
    assert "Start it now, before its start date (Monday 1 September 2031)" in page

    response = client.post(url, {"to_status": "active"})
    cohort.refresh_from_db()
    assert cohort.status == Cohort.Status.MATCHING
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        services.COHORT_STARTS_LATER.format(date="Monday 1 September 2031")
    ]

    client.post(url, {"to_status": "active", "confirm_early_start": "on"})
    cohort.refresh_from_db()
    assert cohort.status == Cohort.Status.ACTIVE


def test_it_starts_a_cohort_on_or_after_its_start_date_without_asking(client, coordinator, program):
    cohort = RelationshipFactory(
        cohort__program=program,
        cohort__status=Cohort.Status.MATCHING,
        cohort__starts_on=dt.date(2020, 9, 1),
        cohort__ends_on=dt.date(2021, 3, 1),
    ).cohort
    client.force_login(coordinator)

    page = client.get(reverse("programs:cohort_detail", args=[cohort.pk])).content.decode()
    client.post(reverse("programs:cohort_transition", args=[cohort.pk]), {"to_status": "active"})

    assert "before its start date" not in page
    cohort.refresh_from_db()
    assert cohort.status == Cohort.Status.ACTIVE


# --- 6. The vocabulary table ----------------------------------------------------------------


def test_it_shows_a_dash_where_a_term_has_no_other_spellings(client, coordinator):
    from django.contrib.auth.models import Permission

    coordinator.user_permissions.add(
        Permission.objects.get(content_type__app_label="programs", codename="change_competency")
    )
    lonely = CompetencyFactory(name="Negotiation")
    CompetencySynonym.objects.create(competency=CompetencyFactory(name="Coaching"), name="mentor")
    client.force_login(coordinator)

    page = client.get(reverse("programs:competency_review")).content.decode()

    row = page[page.index(lonely.name) :].split("</tr>", 1)[0]
    assert "None" not in page
    assert "—" in row
    assert "No other spellings" in row
