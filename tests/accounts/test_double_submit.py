"""Every create form, sent twice with the same one-time token (a double click, a reload of the
answer, the back button and "send" again), creates once: the second answer goes where the first
did and says it was already saved. A form without a token (a tab opened before tokens) still
works, once. Forms whose object has a natural key (one signature per version, one exclusion per
pair) need no token: the key keeps them single.

Each case builds its world from the personas, signs in the person who fills the form, and names
the form's address, what it posts and what it creates."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.services import ALREADY_SAVED
from common.forms import SUBMISSION_TOKEN
from goals.models import (
    AgreementSignature,
    CheckIn,
    CheckInComment,
    Goal,
    PrivateNote,
    Pulse,
    Reflection,
    SurveyResponse,
)
from matching.models import MatchExclusion, MatchRun, MentorRequest, Relationship
from notifications.models import Notification
from programs.models import (
    Announcement,
    BulkJob,
    Cohort,
    Enrolment,
    FeedbackQuestion,
    ParticipantImport,
)
from programs.models import Program as ProgramModel
from programs.services import coordinators_group_ensure
from tests.factories import (
    CheckInFactory,
    EnrolmentFactory,
    MatchRunFactory,
    ProfileFactory,
    RelationshipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

IMPORT_FILE = b"Email,Role,Name\nana.alves@example.org,mentee,Ana Alves\n"


@dataclass
class Form:
    """A create form as its user sends it: where, what (a fresh dict each call, so a file can
    be sent twice), what it creates, and the token's field name."""

    url: str
    data: Callable[[], dict[str, Any]]
    created: Callable[[], int]
    token_field: str = SUBMISSION_TOKEN
    page: str = ""  # where the form is drawn, when not at its own address

    def __post_init__(self) -> None:
        self.page = self.page or self.url


Get = Callable[[str], Any]


def _pair(get: Get, *, started_days_ago: int = 30) -> Relationship:
    cohort = get("cohort")
    cohort.status = Cohort.Status.ACTIVE
    cohort.save(update_fields=["status"])
    return RelationshipFactory(
        cohort=cohort,
        mentor=get("mentor"),
        mentee=get("mentee"),
        started_at=timezone.now() - dt.timedelta(days=started_days_ago),
    )


def _member(relationship: Relationship, user: Any) -> Any:
    return relationship.members.get(enrolment__user=user)


def goal(client: Client, get: Get) -> Form:
    pair = _pair(get)
    client.force_login(get("mentee"))
    return Form(
        reverse("goals:goal_create", args=[pair.pk]),
        lambda: {
            "title": "Present to the board",
            "measure": "A 10-minute talk",
            "target_date": timezone.localdate().isoformat(),
        },
        Goal.objects.count,
    )


def check_in(client: Client, get: Get) -> Form:
    pair = _pair(get)
    client.force_login(get("mentee"))
    return Form(
        reverse("goals:check_in_create", args=[pair.pk]),
        lambda: {
            "met_on": timezone.localdate().isoformat(),
            "duration_minutes": 45,
            "mode": CheckIn.Mode.VIDEO,
            "summary": "We planned the talk.",
            "private_note": "I was nervous.",
        },
        CheckIn.objects.count,
    )


def comment(client: Client, get: Get) -> Form:
    pair = _pair(get)
    logged = CheckInFactory(relationship=pair, logged_by=_member(pair, get("mentor")))
    client.force_login(get("mentee"))
    return Form(
        reverse("goals:check_in_comment", args=[logged.pk]),
        lambda: {"text": "Thank you!"},
        CheckInComment.objects.count,
    )


def private_note(client: Client, get: Get) -> Form:
    pair = _pair(get)
    client.force_login(get("mentee"))
    return Form(
        reverse("goals:private_note_add", args=[pair.pk]),
        lambda: {"text": "Ask about the budget."},
        PrivateNote.objects.count,
        page=reverse("goals:relationship_home", args=[pair.pk]),
    )


def pulse(client: Client, get: Get) -> Form:
    pair = _pair(get)
    logged = CheckInFactory(relationship=pair, logged_by=_member(pair, get("mentor")))
    client.force_login(get("mentee"))
    return Form(
        reverse("goals:pulse_give", args=[logged.pk]),
        lambda: {"usefulness": 5, "line": "Great."},
        Pulse.objects.count,
    )


def survey(client: Client, get: Get) -> Form:
    pair = _pair(get)
    cohort = pair.cohort
    cohort.starts_on = timezone.localdate() - dt.timedelta(days=100)
    cohort.ends_on = timezone.localdate() + dt.timedelta(days=80)
    cohort.save()
    question = FeedbackQuestion.objects.create(
        program=cohort.program, text="How useful is it?", answer_kind="scale", position=1
    )
    client.force_login(get("mentee"))
    return Form(
        reverse("goals:survey", args=[pair.pk, "midpoint"]),
        lambda: {f"q{question.pk}": "4"},
        SurveyResponse.objects.count,
    )


def reflection(client: Client, get: Get) -> Form:
    pair = _pair(get)
    client.force_login(get("mentee"))
    return Form(
        reverse("goals:reflections", args=[pair.pk]),
        lambda: {"prompt": "", "own_prompt": "What changed?", "text": "I speak up more."},
        Reflection.objects.count,
    )


def mentor_request(client: Client, get: Get) -> Form:
    program, cohort = get("program"), get("cohort")
    program.mentees_may_request = True
    program.save(update_fields=["mentees_may_request"])
    cohort.status = Cohort.Status.MATCHING
    cohort.save(update_fields=["status"])
    mentor, mentee = get("mentor"), get("mentee")
    ProfileFactory(user=mentor, job_level=5)
    ProfileFactory(user=mentee, job_level=2)
    maya = Enrolment.objects.get(user=mentor)
    client.force_login(mentee)
    return Form(
        reverse("matching:recommendations", args=[Enrolment.objects.get(user=mentee).pk]),
        lambda: {"first": maya.pk, "note": "Hello"},
        MentorRequest.objects.count,
    )


def _matching_cohort(get: Get) -> Cohort:
    cohort = get("cohort")
    cohort.status = Cohort.Status.MATCHING
    cohort.save(update_fields=["status"])
    get("mentor"), get("mentee")
    return cohort


def match_run(client: Client, get: Get) -> Form:
    cohort = _matching_cohort(get)
    client.force_login(get("coordinator"))
    return Form(
        reverse("matching:run_create", args=[cohort.pk]),
        lambda: {"objective": MatchRun.Objective.SCORE},
        MatchRun.objects.count,
        page=reverse("matching:cohort_matching", args=[cohort.pk]),
    )


def match_rerun(client: Client, get: Get) -> Form:
    cohort = _matching_cohort(get)
    run = MatchRunFactory(cohort=cohort, created_by=get("coordinator"))
    client.force_login(get("coordinator"))
    return Form(
        reverse("matching:run_rerun", args=[run.pk]),
        dict,
        MatchRun.objects.count,
        page=reverse("matching:run_detail", args=[run.pk]),
    )


def new_program(client: Client, get: Get) -> Form:
    coordinator = get("coordinator")
    coordinators_group_ensure().user_set.add(coordinator)
    client.force_login(coordinator)
    return Form(
        reverse("programs:program_create"),
        lambda: {
            "name": "Sales mentoring",
            "kind": ProgramModel.Kind.ONE_TO_ONE,
            "meeting_cadence_days": 14,
            "length_weeks": 26,
            "default_mentor_capacity": 2,
            "circle_size": 5,
            "mentors_per_circle": 1,
            "agreement_template": "We meet every fortnight.",
            "time_zone": "Europe/London",
        },
        ProgramModel.objects.count,
    )


def new_cohort(client: Client, get: Get) -> Form:
    program = get("program")
    client.force_login(get("coordinator"))
    return Form(
        reverse("programs:cohort_create", args=[program.pk]),
        lambda: {"name": "Autumn", "starts_on": "2031-09-01", "ends_on": "2032-03-01"},
        Cohort.objects.count,
    )


def cohort_clone(client: Client, get: Get) -> Form:
    closed = get("cohort")
    closed.status = Cohort.Status.CLOSED
    closed.save(update_fields=["status"])
    get("mentor")
    client.force_login(get("coordinator"))
    return Form(
        reverse("programs:cohort_clone", args=[closed.pk]),
        lambda: {"name": "Autumn", "starts_on": "2031-09-01"},
        Cohort.objects.count,
    )


def participant_import(client: Client, get: Get) -> Form:
    client.force_login(get("coordinator"))
    return Form(
        reverse("programs:import_upload", args=[get("cohort").pk]),
        lambda: {"file": SimpleUploadedFile("people.csv", IMPORT_FILE, content_type="text/csv")},
        ParticipantImport.objects.count,
    )


def application(client: Client, get: Get) -> Form:
    cohort = get("cohort")
    client.force_login(get("outsider"))
    return Form(
        reverse("programs:apply", args=[cohort.application_token]),
        lambda: {
            "role": "mentee",
            "languages": "English",
            "development_goals": "Present to the board.",
            "availability": "Tuesdays",
        },
        Enrolment.objects.count,
    )


def announcement(client: Client, get: Get) -> Form:
    """Announcements came first with this design, in a field of their own (`token`)."""
    get("mentee")
    client.force_login(get("coordinator"))
    return Form(
        reverse("programs:announcement_create", args=[get("cohort").pk]),
        lambda: {"role": "", "subject": "Kick-off", "body": "Monday at 10.", "confirm": "1"},
        Announcement.objects.count,
        token_field="token",
        page=reverse("programs:announcement_list", args=[get("cohort").pk]),
    )


def approve_all(client: Client, get: Get) -> Form:
    """Approving everyone a filter matches: the confirmation page queues one job."""
    cohort = get("cohort")
    EnrolmentFactory(cohort=cohort, status=Enrolment.Status.APPLIED)
    client.force_login(get("coordinator"))
    url = reverse("programs:enrolment_approve_all", args=[cohort.pk]) + "?status=applied"
    return Form(url, lambda: {"expected": "1"}, BulkJob.objects.count)


CREATE_FORMS = [
    goal,
    check_in,
    comment,
    private_note,
    pulse,
    survey,
    reflection,
    mentor_request,
    match_run,
    match_rerun,
    new_program,
    new_cohort,
    cohort_clone,
    participant_import,
    application,
    announcement,
    approve_all,
]


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def get(request: pytest.FixtureRequest) -> Get:
    return request.getfixturevalue


@pytest.mark.parametrize("make", CREATE_FORMS, ids=lambda make: make.__name__)
def test_it_creates_once_when_the_same_form_is_sent_twice(client, get, make):
    form = make(client, get)
    before = form.created()
    token = str(uuid.uuid4())

    first = client.post(form.url, {**form.data(), form.token_field: token})
    second = client.post(form.url, {**form.data(), form.token_field: token})

    assert first.status_code == 302, first.content.decode()[:3000]
    assert form.created() == before + 1
    assert (second.status_code, second.url) == (302, first.url)
    if form.token_field == SUBMISSION_TOKEN:
        assert ALREADY_SAVED in messages_of(second)


@pytest.mark.parametrize(
    "make", [m for m in CREATE_FORMS if m not in (pulse, comment)], ids=lambda m: m.__name__
)
def test_every_create_form_is_drawn_with_a_fresh_token(client, get, make):
    """Pulses and comments are drawn once per check-in: see the next test."""
    form = make(client, get)
    marker = f'name="{form.token_field}" value="'

    pages = [client.get(form.page).content.decode() for _ in range(2)]

    tokens = [page.split(marker)[1].split('"')[0] for page in pages]
    assert all(tokens)
    assert tokens[0] != tokens[1]


def test_the_forms_repeated_on_the_relationship_home_each_carry_their_own_token(client, get):
    pair = _pair(get)
    for _ in range(2):
        CheckInFactory(relationship=pair, logged_by=_member(pair, get("mentor")))
    client.force_login(get("mentee"))

    page = client.get(reverse("goals:relationship_home", args=[pair.pk])).content.decode()

    # A pulse and a comment form per check-in, and the private note's.
    tokens = page.split(f'name="{SUBMISSION_TOKEN}" value="')[1:]
    assert len(tokens) == 5
    assert len({token[:36] for token in tokens}) == 5


def test_a_double_click_on_a_check_in_makes_one_check_in_one_note_and_one_email(
    client, get, mailoutbox, django_capture_on_commit_callbacks
):
    """The issue's case: two check-ins, two private notes and six emails before."""
    form = check_in(client, get)
    token = str(uuid.uuid4())

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            client.post(form.url, {**form.data(), SUBMISSION_TOKEN: token})

    assert CheckIn.objects.count() == 1
    assert PrivateNote.objects.count() == 1
    assert Notification.objects.filter(kind=Notification.Kind.CHECK_IN_LOGGED).count() == 1
    assert [m.to for m in mailoutbox] == [[get("mentor").email]]


@pytest.mark.parametrize(
    "make", [m for m in CREATE_FORMS if m is not announcement], ids=lambda m: m.__name__
)
def test_a_form_without_a_token_still_creates(client, get, make):
    """A page drawn before tokens existed (an old tab) is not refused: it creates, once.
    (Announcements have always needed their own token.)"""
    form = make(client, get)
    before = form.created()

    response = client.post(form.url, form.data())

    assert response.status_code == 302
    assert form.created() == before + 1
    assert ALREADY_SAVED not in messages_of(response)


def test_two_forms_drawn_apart_make_two_check_ins(client, get):
    """Only the same form sent again is held back: two forms are two meetings."""
    form = check_in(client, get)

    for _ in range(2):
        client.post(form.url, {**form.data(), SUBMISSION_TOKEN: str(uuid.uuid4())})

    assert CheckIn.objects.count() == 2


def test_a_form_refused_once_can_be_corrected_and_sent_with_its_token(client, get):
    """A refusal rolls the token's claim back: the corrected form keeps its token and saves."""
    form = check_in(client, get)
    token = str(uuid.uuid4())
    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()

    refused = client.post(form.url, {**form.data(), "met_on": future, SUBMISSION_TOKEN: token})
    saved = client.post(form.url, {**form.data(), SUBMISSION_TOKEN: token})

    assert refused.status_code == 200
    assert f'value="{token}"' in refused.content.decode()
    assert saved.status_code == 302
    assert CheckIn.objects.count() == 1


def test_a_token_is_one_persons_own(client, get):
    """Another person sending the same token (never by chance: it is random) creates their own
    goal and is never sent to the first person's."""
    goal_form = goal(client, get)
    token = str(uuid.uuid4())
    client.post(goal_form.url, {**goal_form.data(), SUBMISSION_TOKEN: token})
    client.force_login(get("mentor"))

    response = client.post(goal_form.url, {**goal_form.data(), SUBMISSION_TOKEN: token})

    assert Goal.objects.count() == 2
    assert ALREADY_SAVED not in messages_of(response)


def test_a_goal_deleted_since_lets_its_form_create_again(client, get):
    form = goal(client, get)
    token = str(uuid.uuid4())
    client.post(form.url, {**form.data(), SUBMISSION_TOKEN: token})
    Goal.objects.all().delete()

    client.post(form.url, {**form.data(), SUBMISSION_TOKEN: token})

    assert Goal.objects.count() == 1


# --- Natural keys: no token needed -----------------------------------------------------------


def _signature(client: Client, get: Get) -> Form:
    pair = _pair(get)
    client.get(reverse("goals:relationship_home", args=[pair.pk]))  # drafts the agreement
    client.force_login(get("mentee"))
    client.get(reverse("goals:relationship_home", args=[pair.pk]))
    return Form(
        reverse("goals:agreement_sign", args=[pair.pk]),
        lambda: {"version": 1},
        AgreementSignature.objects.count,
    )


def _exclusion(client: Client, get: Get) -> Form:
    cohort = get("cohort")
    maya = Enrolment.objects.get(user=get("mentor"))
    mo = Enrolment.objects.get(user=get("mentee"))
    client.force_login(get("coordinator"))
    return Form(
        reverse("matching:exclusion_list", args=[cohort.pk]),
        lambda: {"first": maya.pk, "second": mo.pk, "reason": "Same team"},
        MatchExclusion.objects.count,
    )


@pytest.mark.parametrize("make", [_signature, _exclusion], ids=["signature", "exclusion"])
def test_a_form_whose_object_has_a_natural_key_creates_once_without_a_token(client, get, make):
    form = make(client, get)

    first = client.post(form.url, form.data())
    second = client.post(form.url, form.data())

    assert form.created() == 1
    assert (second.status_code, second.url) == (302, first.url)


def test_a_rematch_sent_twice_gives_the_mentee_one_new_mentor(client, get):
    """The mentee's one active relationship is the key, checked under the mentee's lock."""
    pair = _pair(get)
    pair.status = Relationship.Status.ENDED
    pair.save(update_fields=["status"])
    nia = EnrolmentFactory(
        cohort=pair.cohort,
        user=UserFactory(display_name="Nia Mentor"),
        role=Enrolment.Role.MENTOR,
        capacity=1,
    )
    ProfileFactory(user=nia.user, job_level=6)
    ProfileFactory(user=get("mentee"), job_level=2)
    client.force_login(get("coordinator"))
    url = reverse("matching:relationship_replace", args=[pair.pk])

    responses = [client.post(url, {"mentor": nia.pk}) for _ in range(2)]

    assert responses[0].status_code == 302
    assert responses[1].status_code == 200  # the page now says the mentee has a mentor
    assert Relationship.objects.filter(status=Relationship.Status.ACTIVE).count() == 1
