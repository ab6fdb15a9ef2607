"""Coordinator pages for programs, cohorts and the people in them, through the HTTP contract: who
may open what, what each page does, and that list pages cost a fixed number of queries."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from typing import Any, cast

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from accounts.models import User
from programs import services
from programs.models import Cohort, CohortQuestion, Enrolment, Program
from programs.selectors import EXPORT_COLUMNS
from tests.factories import (
    CohortFactory,
    CompetencyFactory,
    EnrolmentCompetencyFactory,
    EnrolmentFactory,
    ProfileFactory,
    ProgramFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PERSONAS = ["coordinator", "other_coordinator", "mentor", "mentee", "outsider", "anonymous"]


# --- Helpers --------------------------------------------------------------------------------


@dataclass
class World:
    program: Program
    cohort: Cohort
    applicant: Enrolment  # applied, waiting for the coordinator
    newcomer: User  # has an account, coordinates nothing


@pytest.fixture
def world(program, other_program, cohort, mentor, mentee) -> World:
    CohortFactory(program=other_program, name="Autumn Sales")
    applicant = EnrolmentFactory(
        cohort=cohort,
        user=UserFactory(email="ana.applicant@example.org", display_name="Ana Applicant"),
        role=Enrolment.Role.MENTEE,
        status=Enrolment.Status.APPLIED,
    )
    newcomer = UserFactory(email="nina.newcomer@example.org", display_name="Nina Newcomer")
    return World(program=program, cohort=cohort, applicant=applicant, newcomer=newcomer)


def allow_program_creation(user: User) -> User:
    user.user_permissions.add(Permission.objects.get(codename="add_program"))
    return User.objects.get(pk=user.pk)  # permissions are cached on the instance


def messages_of(response) -> list[str]:
    """The messages a response leaves for the next page: of a redirect not followed, or of the
    page a followed redirect ended on."""
    if getattr(response, "redirect_chain", None):
        return [str(message) for message in response.context["messages"]]
    return [str(message) for message in get_messages(response.wsgi_request)]


def program_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Graduate Mentoring",
        "description": "For this year's graduates.",
        "kind": Program.Kind.ONE_TO_ONE,
        "meeting_cadence_days": 14,
        "length_weeks": 26,
        "default_mentor_capacity": 2,
        "circle_size": 5,
        "mentors_per_circle": 1,
        "agreement_template": "We meet every fortnight and keep it confidential.",
        "time_zone": "UTC",
    }
    data.update(overrides)
    return data


def cohort_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Autumn",
        "starts_on": "2031-09-01",
        "ends_on": "2032-03-01",
        "enrolment_opens_on": "2031-07-01",
        "enrolment_closes_on": "2031-08-15",
    }
    data.update(overrides)
    return data


def questions_data(rows: list[dict[str, Any]], *, initial: int = 0) -> dict[str, Any]:
    data: dict[str, Any] = {
        "questions-TOTAL_FORMS": len(rows),
        "questions-INITIAL_FORMS": initial,
        "questions-MIN_NUM_FORMS": 0,
        "questions-MAX_NUM_FORMS": 1000,
    }
    for i, row in enumerate(rows):
        if "id" in row:
            data[f"questions-{i}-id"] = row["id"]
        # Feedback questions only; the cohort's form ignores these.
        data[f"questions-{i}-asked_of"] = row.get("asked_of", "everyone")
        data[f"questions-{i}-visible_to"] = row.get("visible_to", "coordinator")
        data[f"questions-{i}-text"] = row.get("text", "")
        data[f"questions-{i}-answer_kind"] = row.get("answer_kind", "short")
        if row.get("is_required"):
            data[f"questions-{i}-is_required"] = "on"
        if row.get("delete"):
            data[f"questions-{i}-DELETE"] = "on"
    return data


def snapshot(w: World) -> tuple:
    """Everything a refused request could have changed."""
    w.program.refresh_from_db()
    w.cohort.refresh_from_db()
    return (
        w.program.name,
        sorted(w.program.coordinators.values_list("pk", flat=True)),
        w.cohort.name,
        w.cohort.status,
        w.cohort.application_token,
        list(w.cohort.questions.values_list("text", flat=True)),
        list(w.program.questions.values_list("text", flat=True)),
        sorted(Enrolment.objects.values_list("pk", "status")),
        Program.objects.count(),
        Cohort.objects.count(),
    )


# --- Who may open what ----------------------------------------------------------------------

# name → (URL name, method, URL args, POST data); the data makes a real change when the
# coordinator sends it, so a refusal for anyone else is not an accident of bad input.
ENDPOINTS: dict[str, tuple[str, str, Any, Any]] = {
    "program_detail": ("program_detail", "get", lambda w: [w.program.pk], None),
    "program_edit": ("program_edit", "get", lambda w: [w.program.pk], None),
    "program_edit (post)": (
        "program_edit",
        "post",
        lambda w: [w.program.pk],
        lambda w: program_data(name="Renamed"),
    ),
    "program_coordinators": (
        "program_coordinators",
        "post",
        lambda w: [w.program.pk],
        lambda w: {"action": "add", "email": w.newcomer.email},
    ),
    "program_questions": ("program_questions", "get", lambda w: [w.program.pk], None),
    "program_questions (post)": (
        "program_questions",
        "post",
        lambda w: [w.program.pk],
        lambda w: questions_data([{"text": "How useful?", "answer_kind": "scale"}]),
    ),
    "cohort_create": ("cohort_create", "get", lambda w: [w.program.pk], None),
    "cohort_create (post)": (
        "cohort_create",
        "post",
        lambda w: [w.program.pk],
        lambda w: cohort_data(),
    ),
    "cohort_detail": ("cohort_detail", "get", lambda w: [w.cohort.pk], None),
    "cohort_edit": ("cohort_edit", "get", lambda w: [w.cohort.pk], None),
    "cohort_edit (post)": (
        "cohort_edit",
        "post",
        lambda w: [w.cohort.pk],
        lambda w: cohort_data(name="Spring, renamed"),
    ),
    "cohort_transition": (
        "cohort_transition",
        "post",
        lambda w: [w.cohort.pk],
        lambda w: {"to_status": Cohort.Status.DRAFT},
    ),
    "cohort_clone": ("cohort_clone", "get", lambda w: [w.cohort.pk], None),
    "cohort_questions": ("cohort_questions", "get", lambda w: [w.cohort.pk], None),
    "cohort_questions (post)": (
        "cohort_questions",
        "post",
        lambda w: [w.cohort.pk],
        lambda w: questions_data([{"text": "Why now?"}]),
    ),
    "cohort_link_rotate": ("cohort_link_rotate", "post", lambda w: [w.cohort.pk], lambda w: {}),
    "enrolment_list": ("enrolment_list", "get", lambda w: [w.cohort.pk], None),
    "enrolment_bulk_status": (
        "enrolment_bulk_status",
        "post",
        lambda w: [w.cohort.pk],
        lambda w: {"ids": [w.applicant.pk], "status": Enrolment.Status.DECLINED},
    ),
    "enrolment_export csv": ("enrolment_export", "get", lambda w: [w.cohort.pk, "csv"], None),
    "enrolment_approve_all": ("enrolment_approve_all", "get", lambda w: [w.cohort.pk], None),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_it_lets_only_the_programs_coordinator_in(client, sign_in, world, endpoint, persona):
    url_name, method, args, data = ENDPOINTS[endpoint]
    url = reverse(f"programs:{url_name}", args=args(world))
    sign_in(persona)
    before = snapshot(world)

    response = client.get(url) if method == "get" else client.post(url, data(world))

    if persona == "coordinator":
        assert response.status_code in (200, 302)
        if method == "post":
            assert snapshot(world) != before, "the coordinator's request should change something"
        return
    if persona == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    else:
        assert response.status_code == 404
    assert snapshot(world) == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_lists_only_the_programs_a_person_coordinates(client, sign_in, world, persona):
    sign_in(persona)

    response = client.get(reverse("programs:program_list"))

    if persona == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
        return
    assert response.status_code == 200
    page = response.content.decode()
    assert ("Leadership Mentoring" in page) == (persona == "coordinator")
    assert ("Sales Mentoring" in page) == (persona == "other_coordinator")


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_lets_only_people_allowed_to_create_programs_open_the_form(
    client, sign_in, world, persona
):
    sign_in(persona)

    response = client.get(reverse("programs:program_create"))

    if persona == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    else:
        assert response.status_code == 403
        assert "You do not have access to this page" in response.content.decode()


# --- Programs -------------------------------------------------------------------------------


def test_it_creates_a_program_whose_creator_coordinates_it(client, coordinator):
    client.force_login(allow_program_creation(coordinator))
    assert "New program" in client.get(reverse("programs:program_list")).content.decode()

    response = client.post(reverse("programs:program_create"), program_data())

    program = Program.objects.get(name="Graduate Mentoring")
    assert response.status_code == 302
    assert response.url == reverse("programs:program_detail", args=[program.pk])
    assert list(program.coordinators.all()) == [coordinator]
    assert program.default_mentor_capacity == 2
    assert not program.mentees_may_request


def test_it_shows_plain_field_errors_on_a_bad_program(client, coordinator):
    client.force_login(allow_program_creation(coordinator))

    response = client.post(
        reverse("programs:program_create"),
        program_data(name="", meeting_cadence_days=0, mentors_per_circle=3),
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"name", "meeting_cadence_days", "mentors_per_circle"}
    assert "This field is required." in response.content.decode()
    assert not Program.objects.filter(name="").exists()


def test_it_explains_each_kind_of_program_on_the_form(client, coordinator):
    client.force_login(allow_program_creation(coordinator))

    page = client.get(reverse("programs:program_create")).content.decode()

    assert "The more junior person mentors the more senior one." in page
    assert "People at a similar level pair up and mentor each other." in page


def test_it_edits_a_programs_settings(client, coordinator, program):
    client.force_login(coordinator)

    response = client.post(
        reverse("programs:program_edit", args=[program.pk]),
        program_data(
            name="Leadership Mentoring 2", kind=Program.Kind.REVERSE, mentees_may_request="on"
        ),
    )

    assert response.status_code == 302
    program.refresh_from_db()
    assert program.name == "Leadership Mentoring 2"
    assert program.kind == Program.Kind.REVERSE
    assert program.mentees_may_request
    assert "Program settings saved." in messages_of(response)


def test_it_keeps_the_kind_once_a_cohort_has_left_draft(client, coordinator, program, cohort):
    client.force_login(coordinator)
    url = reverse("programs:program_edit", args=[program.pk])

    page = client.get(url).content.decode()
    response = client.post(url, program_data(name="Still one-to-one", kind=Program.Kind.PEER))

    assert "The kind cannot change any more" in page
    radios = re.findall(r'<input type="radio" name="kind"[^>]*>', page)
    assert len(radios) == 4
    assert all(" disabled" in radio for radio in radios)
    assert response.status_code == 302
    program.refresh_from_db()
    assert program.name == "Still one-to-one"
    assert program.kind == Program.Kind.ONE_TO_ONE


def test_it_lets_the_kind_change_while_every_cohort_is_a_draft(client, coordinator, program):
    CohortFactory(program=program, status=Cohort.Status.DRAFT)
    client.force_login(coordinator)

    client.post(
        reverse("programs:program_edit", args=[program.pk]),
        program_data(name=program.name, kind=Program.Kind.CIRCLE),
    )

    program.refresh_from_db()
    assert program.kind == Program.Kind.CIRCLE


def test_it_adds_and_removes_coordinators(client, coordinator, program, other_coordinator):
    client.force_login(coordinator)
    url = reverse("programs:program_coordinators", args=[program.pk])

    added = client.post(
        url, {"action": "add", "email": "KWAME.coordinator@example.org "}, follow=True
    )
    unknown = client.post(url, {"action": "add", "email": "nobody@example.org"}, follow=True)
    removed = client.post(url, {"action": "remove", "user_id": other_coordinator.pk})

    assert added.redirect_chain == [(reverse("programs:program_detail", args=[program.pk]), 302)]
    assert "Kwame Coordinator now coordinates this program." in messages_of(added)
    assert messages_of(unknown) == [
        services.NO_ACCOUNT_WITH_EMAIL.format(email="nobody@example.org")
    ]
    assert "Kwame Coordinator no longer coordinates this program." in messages_of(removed)
    assert list(program.coordinators.all()) == [coordinator]


def test_it_refuses_to_remove_the_last_coordinator(client, coordinator, program):
    client.force_login(coordinator)

    response = client.post(
        reverse("programs:program_coordinators", args=[program.pk]),
        {"action": "remove", "user_id": coordinator.pk},
    )

    assert response.status_code == 302
    assert response.url == reverse("programs:program_detail", args=[program.pk])
    assert messages_of(response) == [services.PROGRAM_NEEDS_A_COORDINATOR]
    assert list(program.coordinators.all()) == [coordinator]


def test_it_shows_a_program_with_its_cohorts_coordinators_and_questions(
    client, coordinator, program, cohort, mentor, mentee
):
    program.questions.create(text="How useful were your meetings?", answer_kind="scale")
    client.force_login(coordinator)

    page = client.get(reverse("programs:program_detail", args=[program.pk])).content.decode()

    assert reverse("programs:cohort_detail", args=[cohort.pk]) in page
    assert reverse("programs:cohort_create", args=[program.pk]) in page
    assert "corinne.coordinator@example.org" in page
    assert "How useful were your meetings?" in page
    assert reverse("programs:program_questions", args=[program.pk]) in page


# --- Cohorts --------------------------------------------------------------------------------


def test_it_creates_a_draft_cohort(client, coordinator, program):
    client.force_login(coordinator)

    response = client.post(reverse("programs:cohort_create", args=[program.pk]), cohort_data())

    cohort = Cohort.objects.get(program=program, name="Autumn")
    assert response.url == reverse("programs:cohort_detail", args=[cohort.pk])
    assert cohort.status == Cohort.Status.DRAFT
    assert cohort.ends_on == dt.date(2032, 3, 1)


def test_it_shows_date_problems_beside_their_fields(client, coordinator, program):
    client.force_login(coordinator)

    response = client.post(
        reverse("programs:cohort_create", args=[program.pk]),
        cohort_data(starts_on="2031-09-01", ends_on="2031-08-01"),
    )

    assert response.status_code == 200
    assert response.context["form"].errors["ends_on"] == ["The cohort must end after it starts."]
    assert 'id="id_ends_on_error"' in response.content.decode()
    assert not Cohort.objects.filter(name="Autumn").exists()


def test_it_edits_a_cohorts_dates(client, coordinator, cohort):
    client.force_login(coordinator)

    response = client.post(
        reverse("programs:cohort_edit", args=[cohort.pk]),
        cohort_data(name="Spring", enrolment_opens_on="", enrolment_closes_on=""),
    )

    assert response.status_code == 302
    cohort.refresh_from_db()
    assert cohort.starts_on == dt.date(2031, 9, 1)
    assert cohort.enrolment_opens_on is None


def test_it_shows_the_dashboard_counts_gap_and_missing_profiles(client, coordinator, cohort):
    # Two approved mentors with 3 places between them; 5 approved mentees; 1 applied.
    EnrolmentFactory(cohort=cohort, role="mentor", capacity=2)
    EnrolmentFactory(cohort=cohort, role="mentor", capacity=1)
    for i in range(5):
        EnrolmentFactory(cohort=cohort, user=UserFactory(display_name=f"Mentee {i:02}"))
    EnrolmentFactory(cohort=cohort, status=Enrolment.Status.APPLIED)
    complete = EnrolmentFactory(cohort=cohort, user=UserFactory(display_name="Complete Carla"))
    ProfileFactory(user=complete.user)
    EnrolmentCompetencyFactory(enrolment=complete)
    client.force_login(coordinator)

    response = client.get(reverse("programs:cohort_detail", args=[cohort.pk]))

    page = response.content.decode()
    rows = {row["label"]: row for row in response.context["count_rows"]}
    assert set(rows) == {"Mentor", "Mentee"}
    assert rows["Mentee"]["total"] == 7
    assert rows["Mentor"]["total"] == 2
    assert "3 mentees without a place: approve more mentors or raise capacities." in page
    assert "Mentee 00" in page
    assert "missing profile, competencies" in page
    assert "Complete Carla" not in page
    # 8 people are incomplete (2 mentors, 5 mentees, 1 applicant): all shown, no "more".
    assert len(response.context["missing_people"]) == 8
    assert "more." not in page
    assert "Start matching" in page
    assert reverse("programs:apply", args=[cohort.application_token]) in page
    assert "http://testserver/apply/" in page


def test_it_shows_spare_places_and_caps_the_missing_list(client, coordinator, cohort):
    EnrolmentFactory(cohort=cohort, role="mentor", capacity=5)
    EnrolmentFactory.create_batch(12, cohort=cohort, status=Enrolment.Status.APPLIED)
    client.force_login(coordinator)

    response = client.get(reverse("programs:cohort_detail", args=[cohort.pk]))

    page = response.content.decode()
    assert "5 spare mentor places." in page
    assert len(response.context["missing_people"]) == 10
    assert "and 3 more." in page


def test_it_explains_why_matching_cannot_start_yet(client, coordinator, cohort, mentor):
    client.force_login(coordinator)

    page = client.get(reverse("programs:cohort_detail", args=[cohort.pk])).content.decode()

    assert services.COHORT_NEEDS_MENTORS_AND_MENTEES in page
    button = page.split('value="matching"')[1].split("</button>")[0]
    assert "disabled" in button


def test_it_starts_matching_once_a_mentor_and_a_mentee_are_approved(
    client, coordinator, cohort, mentor, mentee
):
    client.force_login(coordinator)
    page = client.get(reverse("programs:cohort_detail", args=[cohort.pk])).content.decode()
    button = page.split('value="matching"')[1].split("</button>")[0]
    assert "disabled" not in button
    assert "data-confirm" in button

    response = client.post(
        reverse("programs:cohort_transition", args=[cohort.pk]), {"to_status": "matching"}
    )

    assert response.url == reverse("programs:cohort_detail", args=[cohort.pk])
    cohort.refresh_from_db()
    assert cohort.status == Cohort.Status.MATCHING


def test_it_reports_a_refused_transition(client, coordinator, cohort, mentor):
    client.force_login(coordinator)

    refused = client.post(
        reverse("programs:cohort_transition", args=[cohort.pk]),
        {"to_status": "matching"},
        follow=True,
    )
    garbage = client.post(
        reverse("programs:cohort_transition", args=[cohort.pk]), {"to_status": "exploded"}
    )

    assert messages_of(refused) == [services.COHORT_NEEDS_MENTORS_AND_MENTEES]
    assert garbage.status_code == 302
    assert messages_of(garbage) == ["Choose one of the next steps shown on the dashboard."]
    cohort.refresh_from_db()
    assert cohort.status == Cohort.Status.ENROLLING


def test_it_replaces_the_application_link(client, coordinator, cohort):
    client.force_login(coordinator)
    old = cohort.application_token

    client.post(reverse("programs:cohort_link_rotate", args=[cohort.pk]))

    cohort.refresh_from_db()
    assert cohort.application_token != old


def test_it_clones_a_closed_cohort_with_its_people_and_questions(
    client, coordinator, cohort, mentor, mentee
):
    cohort.status = Cohort.Status.CLOSED
    cohort.save()
    cohort.questions.create(text="What is your team?", position=0)
    EnrolmentFactory(cohort=cohort, status=Enrolment.Status.WITHDRAWN)
    client.force_login(coordinator)
    url = reverse("programs:cohort_clone", args=[cohort.pk])

    form = client.get(url).context["form"]
    response = client.post(url, {"name": "Autumn", "starts_on": "2031-09-01"})

    assert form.initial["name"] == "Spring (next)"
    assert form.initial["starts_on"] == cohort.ends_on + dt.timedelta(days=7)
    clone = Cohort.objects.get(name="Autumn")
    assert response.url == reverse("programs:cohort_detail", args=[clone.pk])
    assert clone.status == Cohort.Status.DRAFT
    assert clone.cloned_from == cohort
    assert sorted(clone.enrolments.values_list("user__email", "status")) == [
        ("maya.mentor@example.org", "invited"),
        ("mo.mentee@example.org", "invited"),
    ]
    assert list(clone.questions.values_list("text", flat=True)) == ["What is your team?"]
    assert "2 returning participants invited back." in messages_of(response)[0]


def test_it_does_not_clone_a_cohort_that_is_still_running(client, coordinator, cohort):
    client.force_login(coordinator)
    url = reverse("programs:cohort_clone", args=[cohort.pk])

    page = client.get(url).content.decode()
    response = client.post(url, {"name": "Autumn", "starts_on": "2031-09-01"})

    assert "Only a closed cohort can be cloned" in page
    assert services.COHORT_CLONE_ONLY_CLOSED in response.content.decode()
    assert not Cohort.objects.filter(name="Autumn").exists()


def test_it_saves_and_deletes_application_questions(client, coordinator, cohort):
    client.force_login(coordinator)
    url = reverse("programs:cohort_questions", args=[cohort.pk])
    assert "public application form" in client.get(url).content.decode()

    saved = client.post(
        url,
        questions_data(
            [
                {"text": "Which team are you in?", "is_required": True},
                {"text": "Anything else?", "answer_kind": "long"},
                {"text": ""},  # an empty extra row is skipped
            ]
        ),
    )
    page = client.get(url).content.decode()
    trimmed = client.post(
        url,
        questions_data(
            [
                {"text": "Which team are you in?", "is_required": True, "delete": True},
                {"text": "Anything else?", "answer_kind": "long"},
                {"text": "Do you manage people?", "answer_kind": "yes_no"},
            ],
            initial=2,
        ),
    )

    assert saved.status_code == trimmed.status_code == 302
    assert "Which team are you in?" in page
    assert list(
        CohortQuestion.objects.filter(cohort=cohort).values_list(
            "text", "answer_kind", "is_required", "position"
        )
    ) == [("Anything else?", "long", False, 0), ("Do you manage people?", "yes_no", False, 1)]


def test_it_edits_a_programs_feedback_questions_keeping_their_ids(client, coordinator, program):
    kept = program.questions.create(text="How useful are your meetings?", answer_kind="scale")
    program.questions.create(text="Old question", answer_kind="text")
    client.force_login(coordinator)
    url = reverse("programs:program_questions", args=[program.pk])
    assert "How useful are your meetings?" in client.get(url).content.decode()

    response = client.post(
        url,
        questions_data(
            [
                {
                    "id": kept.pk,
                    "text": "How useful are your meetings, from 1 to 5?",
                    "answer_kind": "scale",
                    "asked_of": "mentee",
                    "visible_to": "partner",
                },
                {"text": "Old question", "answer_kind": "text", "delete": True},
                {"text": "What should change?", "answer_kind": "text", "asked_of": "everyone"},
            ],
            initial=2,
        ),
    )

    assert response.status_code == 302
    assert list(
        program.questions.values_list("pk", "text", "asked_of", "visible_to", "position")
    ) == [
        (kept.pk, "How useful are your meetings, from 1 to 5?", "mentee", "partner", 0),
        (program.questions.last().pk, "What should change?", "everyone", "coordinator", 1),
    ]


def test_it_shows_errors_on_a_bad_question_row(client, coordinator, cohort):
    cohort.questions.create(text="Which team?", position=0)
    client.force_login(coordinator)

    response = client.post(
        reverse("programs:cohort_questions", args=[cohort.pk]),
        questions_data([{"text": ""}], initial=1),
    )

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert list(cohort.questions.values_list("text", flat=True)) == ["Which team?"]


# --- People ---------------------------------------------------------------------------------


def test_it_lists_and_filters_the_people_of_a_cohort(client, coordinator, cohort, mentor, mentee):
    applicant = EnrolmentFactory(
        cohort=cohort,
        user=UserFactory(display_name="Ana Applicant"),
        status=Enrolment.Status.APPLIED,
    )
    ProfileFactory(user=applicant.user, department="Finance")
    for name in ("Budgeting", "Coaching", "Delegation", "Empathy"):
        EnrolmentCompetencyFactory(enrolment=applicant, competency=CompetencyFactory(name=name))
    client.force_login(coordinator)
    url = reverse("programs:enrolment_list", args=[cohort.pk])

    everyone = client.get(url).content.decode()
    applied = client.get(url, {"status": "applied"}).content.decode()
    searched = client.get(url, {"q": "finance"}).content.decode()
    mentors = client.get(url, {"role": "mentor", "status": "nonsense"}).content.decode()

    assert all(name in everyone for name in ("Maya Mentor", "Mo Mentee", "Ana Applicant"))
    assert "Budgeting, Coaching, Delegation" in everyone
    assert "+1 more" in everyone
    assert "Ana Applicant" in applied
    assert "Mo Mentee" not in applied
    assert "Ana Applicant" in searched
    assert "Maya Mentor" not in searched
    # A bad filter value is ignored rather than failing the page.
    assert "Maya Mentor" in mentors
    assert "Mo Mentee" in mentors


def test_it_tells_what_to_do_when_nobody_is_in_the_cohort(client, coordinator, cohort):
    client.force_login(coordinator)

    page = client.get(reverse("programs:enrolment_list", args=[cohort.pk])).content.decode()

    assert "No one in Spring yet" in page
    assert reverse("programs:invitation_list", args=[cohort.pk]) in page
    assert reverse("programs:import_upload", args=[cohort.pk]) in page


def test_it_approves_in_bulk_within_the_cohort_only(
    client, coordinator, cohort, other_program, mentor
):
    applied = EnrolmentFactory.create_batch(3, cohort=cohort, status=Enrolment.Status.APPLIED)
    withdrawn = EnrolmentFactory(cohort=cohort, status=Enrolment.Status.WITHDRAWN)
    elsewhere = EnrolmentFactory(
        cohort=CohortFactory(program=other_program), status=Enrolment.Status.APPLIED
    )
    client.force_login(coordinator)
    back = reverse("programs:enrolment_list", args=[cohort.pk]) + "?status=applied&q=a"

    response = client.post(
        reverse("programs:enrolment_bulk_status", args=[cohort.pk]),
        {
            "ids": [e.pk for e in [*applied, withdrawn, elsewhere]],
            "status": "approved",
            "next": back,
        },
    )

    assert response.url == back
    assert messages_of(response) == [
        "3 people approved.",
        services.ENROLMENT_WITHDRAWN_IS_FINAL.format(count=1),
    ]
    statuses = dict(Enrolment.objects.values_list("pk", "status"))
    assert [statuses[e.pk] for e in applied] == ["approved"] * 3
    assert statuses[withdrawn.pk] == "withdrawn"
    assert statuses[elsewhere.pk] == "applied"


def test_it_asks_to_select_someone_and_never_redirects_off_site(client, coordinator, cohort):
    client.force_login(coordinator)
    url = reverse("programs:enrolment_bulk_status", args=[cohort.pk])

    people = reverse("programs:enrolment_list", args=[cohort.pk])

    nobody = client.post(url, {"status": "approved", "next": "https://evil.example/"}, follow=True)
    protocol_relative = client.post(
        url, {"ids": ["1"], "status": "approved", "next": "//evil.example/"}
    )
    client.get(people)  # shows (and so clears) the message
    bad_status = client.post(url, {"ids": ["1"], "status": "withdrawn"})

    assert nobody.redirect_chain == [(people, 302)]
    assert protocol_relative.url == bad_status.url == people
    assert messages_of(nobody) == ["Select at least one person."]
    assert messages_of(bad_status) == ["Choose what to do with the selected people."]


def test_it_exports_csv_with_a_bom_and_one_row_per_person(
    client, coordinator, cohort, mentor, mentee
):
    ProfileFactory(user=mentee, department="Sales")
    client.force_login(coordinator)

    response = client.get(reverse("programs:enrolment_export", args=[cohort.pk, "csv"]))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="spring-participants.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [label for _, label in EXPORT_COLUMNS]
    by_email = {row[0]: row for row in rows[1:]}
    assert sorted(by_email) == ["maya.mentor@example.org", "mo.mentee@example.org"]
    assert by_email["mo.mentee@example.org"][4] == "Sales"
    assert by_email["maya.mentor@example.org"][2:4] == ["mentor", "approved"]


def test_it_exports_xlsx_with_the_same_rows(client, coordinator, cohort, mentor, mentee):
    Enrolment.objects.filter(user=mentee).update(hopes='=HYPERLINK("http://x")')
    client.force_login(coordinator)

    csv_rows = list(
        csv.reader(
            io.StringIO(
                client.get(
                    reverse("programs:enrolment_export", args=[cohort.pk, "csv"])
                ).content.decode("utf-8-sig")
            )
        )
    )
    response = client.get(reverse("programs:enrolment_export", args=[cohort.pk, "xlsx"]))

    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"] == 'attachment; filename="spring-participants.xlsx"'
    sheet = cast(Worksheet, load_workbook(io.BytesIO(response.content)).active)
    xlsx_rows = [[cell or "" for cell in row] for row in sheet.iter_rows(values_only=True)]
    # What a participant typed stays text, never a formula: the XLSX stores it as text, the CSV
    # with the leading apostrophe that makes a spreadsheet show it as text.
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    typed = '=HYPERLINK("http://x")'
    assert typed in xlsx_rows[1]
    assert "'" + typed in csv_rows[1]
    assert xlsx_rows == [[cell.removeprefix("'") for cell in row] for row in csv_rows]


def test_it_refuses_other_export_formats(client, coordinator, cohort):
    client.force_login(coordinator)

    response = client.get(reverse("programs:enrolment_export", args=[cohort.pk, "pdf"]))

    assert response.status_code == 404


# --- Query counts ---------------------------------------------------------------------------


def enrol(cohort: Cohort, count: int) -> None:
    """`count` more people: mostly applied mentees, some mentors, some with a profile and
    competencies, so every branch of the pages has rows to draw."""
    mentees = EnrolmentFactory.create_batch(
        count - count // 5, cohort=cohort, status=Enrolment.Status.APPLIED
    )
    mentors = EnrolmentFactory.create_batch(count // 5, cohort=cohort, role="mentor")
    competency = CompetencyFactory(name="Coaching")
    for enrolment in [*mentees[::7], *mentors[::3]]:
        ProfileFactory(user=enrolment.user)
        EnrolmentCompetencyFactory(enrolment=enrolment, competency=competency, kind="offer")
        EnrolmentCompetencyFactory(enrolment=enrolment, kind="develop")


@pytest.mark.parametrize("url_name", ["enrolment_list", "cohort_detail"])
def test_it_runs_a_fixed_number_of_queries_however_many_people(
    client, coordinator, cohort, url_name, django_assert_num_queries
):
    client.force_login(coordinator)
    url = reverse(f"programs:{url_name}", args=[cohort.pk])
    enrol(cohort, 50)
    client.get(url)  # warm up per-process caches (content types, permissions)

    with CaptureQueriesContext(connection) as at_50:
        assert client.get(url).status_code == 200
    # The menu asks in one query since issue 14 (was five); the dashboard counts places with
    # the enrolments and the people missing a profile with the first few (was 11 and 16).
    assert len(at_50) == {"enrolment_list": 7, "cohort_detail": 10}[url_name]
    enrol(cohort, 450)
    with django_assert_num_queries(len(at_50)):
        assert client.get(url).status_code == 200


def test_it_lists_programs_in_a_fixed_number_of_queries(
    client, coordinator, django_assert_num_queries
):
    client.force_login(coordinator)
    url = reverse("programs:program_list")
    ProgramFactory(coordinators=[coordinator])
    client.get(url)

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    assert len(few) == 8  # 10 until the menu asked in one query
    for program in ProgramFactory.create_batch(20, coordinators=[coordinator]):
        CohortFactory.create_batch(2, program=program)
    with django_assert_num_queries(len(few)):
        client.get(url)
