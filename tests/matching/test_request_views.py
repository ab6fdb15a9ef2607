"""Self-service over HTTP: a mentee chooses mentors from recommendations, a mentor answers. Who
may open what (a participant's own pages are theirs alone, coordinators included), what each
page does, the emails that follow, and the query counts of the two lists."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile
from matching import services
from matching.forms.requests import CHOOSE_DIFFERENT, NO_LONGER_FREE
from matching.models import MentorRequest, Relationship, RelationshipMember
from matching.views.requests import COORDINATOR_MATCHES
from programs.models import Cohort, Enrolment, EnrolmentCompetency
from tests.factories import (
    CompetencyFactory,
    EnrolmentCompetencyFactory,
    EnrolmentFactory,
    ProfileFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PERSONAS = [
    "coordinator",
    "other_coordinator",
    "mentor",
    "mentee",
    "other_mentee",
    "outsider",
    "anonymous",
]
Status = MentorRequest.Status


# --- People -----------------------------------------------------------------------------------


@pytest.fixture
def speaking(db):
    return CompetencyFactory(name="Public speaking")


@pytest.fixture
def self_service(program, cohort):
    """`program` lets mentees choose, and its cohort is matching."""
    program.mentees_may_request = True
    program.save(update_fields=["mentees_may_request"])
    cohort.status = Cohort.Status.MATCHING
    cohort.save(update_fields=["status"])
    return cohort


def add_mentee(cohort, speaking, *, name: str, email: str) -> Enrolment:
    user = UserFactory(email=email, display_name=name)
    ProfileFactory(user=user, languages=["English"], job_level=2)
    enrolment = EnrolmentFactory(cohort=cohort, user=user, role=Enrolment.Role.MENTEE)
    EnrolmentCompetencyFactory(enrolment=enrolment, competency=speaking)
    return enrolment


def add_mentor(
    cohort, speaking, *, name: str, email: str, capacity: int = 1, languages=("English",)
) -> Enrolment:
    user = UserFactory(email=email, display_name=name)
    ProfileFactory(
        user=user,
        languages=list(languages),
        job_level=5,
        job_title="Engineering manager",
        bio="Fifteen years of leading teams; I love helping people present with confidence.",
    )
    enrolment = EnrolmentFactory(
        cohort=cohort, user=user, role=Enrolment.Role.MENTOR, capacity=capacity
    )
    EnrolmentCompetencyFactory(
        enrolment=enrolment, competency=speaking, kind=EnrolmentCompetency.Kind.EXPERTISE
    )
    return enrolment


@pytest.fixture
def other_mentee(self_service, speaking):
    """Another mentee of the cohort: sees only their own pages, never Mo's."""
    return add_mentee(
        self_service, speaking, name="Nia Newcomer", email="nia.newcomer@example.org"
    ).user


@pytest.fixture
def people(self_service, mentor, mentee, speaking):
    """Mo (the `mentee` persona) may choose; Maya (the `mentor` persona), Ravi and Sam are
    mentors every rule allows for Mo."""
    ProfileFactory(user=mentee, languages=["English"], job_level=2, department="Finance")
    mo = Enrolment.objects.get(user=mentee)
    mo.development_goals = "Present our quarterly numbers to the board."
    mo.save(update_fields=["development_goals"])
    EnrolmentCompetencyFactory(enrolment=mo, competency=speaking)
    ProfileFactory(user=mentor, languages=["English"], job_level=5, job_title="Head of sales")
    maya = Enrolment.objects.get(user=mentor)
    EnrolmentCompetencyFactory(
        enrolment=maya, competency=speaking, kind=EnrolmentCompetency.Kind.EXPERTISE
    )
    ravi = add_mentor(self_service, speaking, name="Ravi Rao", email="ravi.rao@example.org")
    sam = add_mentor(self_service, speaking, name="Sam Stone", email="sam.stone@example.org")
    return SimpleNamespace(mentee=mo, first=maya, second=ravi, third=sam)


def recommendations_url(enrolment: Enrolment) -> str:
    return reverse("matching:recommendations", args=[enrolment.pk])


def choose(client, mentee: Enrolment, *mentors: Enrolment, note: str = ""):
    data = {"note": note}
    for name, mentor in zip(("first", "second", "third"), mentors, strict=False):
        data[name] = str(mentor.pk)
    return client.post(recommendations_url(mentee), data)


def respond(client, mentor_request: MentorRequest, action: str, **fields: str):
    url = reverse("matching:request_respond", args=[mentor_request.pk])
    return client.post(url, {"action": action, **fields}, follow=True)


def request_to(mentor: Enrolment) -> MentorRequest:
    return MentorRequest.objects.get(mentor=mentor)


def statuses(mentee: Enrolment) -> list[str]:
    return list(mentee.requests_made.order_by("rank").values_list("status", flat=True))


def emails_to(mailoutbox, user) -> list:
    return [m for m in mailoutbox if m.to == [user.email]]


def page_of(response) -> str:
    return response.content.decode()


@pytest.fixture
def sent(client, people, mentee, django_capture_on_commit_callbacks):
    """Mo chose Maya, Ravi and Sam in that order; Maya has been asked."""
    client.force_login(mentee)
    with django_capture_on_commit_callbacks(execute=True):
        choose(client, people.mentee, people.first, people.second, people.third)
    client.logout()
    return request_to(people.first)


# --- Who may open what ------------------------------------------------------------------------


def expect(response, persona: str, allowed: tuple[str, ...], ok: int) -> None:
    if persona == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    elif persona in allowed:
        assert response.status_code == ok
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_shows_recommendations_to_their_mentee_only(
    client, sign_in, people, other_mentee, coordinator, other_coordinator, outsider, persona
):
    sign_in(persona)

    response = client.get(recommendations_url(people.mentee))

    expect(response, persona, ("mentee",), 200)


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_withdraws_requests_for_their_mentee_only(
    client, sign_in, sent, people, other_mentee, coordinator, other_coordinator, outsider, persona
):
    sign_in(persona)

    response = client.post(reverse("matching:request_withdraw", args=[people.mentee.pk]))

    expect(response, persona, ("mentee",), 302)
    expected = Status.WITHDRAWN if persona == "mentee" else Status.PENDING
    assert request_to(people.first).status == expected


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_takes_an_answer_from_the_requests_mentee_only(
    client, sign_in, sent, people, other_mentee, coordinator, other_coordinator, outsider, persona
):
    services.mentor_request_ask(request=sent, by_user=people.first.user, question="When?")
    sign_in(persona)

    response = client.post(
        reverse("matching:request_answer", args=[sent.pk]), {"answer": "Tuesdays."}
    )

    expect(response, persona, ("mentee",), 302)
    sent.refresh_from_db()
    assert sent.status == (Status.PENDING if persona == "mentee" else Status.QUESTION)


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_shows_each_person_only_the_requests_sent_to_them(
    client, sign_in, sent, people, other_mentee, coordinator, other_coordinator, outsider, persona
):
    sign_in(persona)

    response = client.get(reverse("matching:request_inbox"))

    expect(response, persona, tuple(p for p in PERSONAS if p != "anonymous"), 200)
    if persona != "anonymous":
        assert len(response.context["inbox"].open) == (persona == "mentor")
        assert ("Present our quarterly numbers" in page_of(response)) == (persona == "mentor")


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_lets_only_the_asked_mentor_respond(
    client, sign_in, sent, people, other_mentee, coordinator, other_coordinator, outsider, persona
):
    sign_in(persona)

    response = client.post(
        reverse("matching:request_respond", args=[sent.pk]), {"action": "accept"}
    )

    expect(response, persona, ("mentor",), 302)
    sent.refresh_from_db()
    assert sent.status == (Status.ACCEPTED if persona == "mentor" else Status.PENDING)
    assert Relationship.objects.exists() == (persona == "mentor")


def test_it_hides_requests_still_queued_from_their_mentor(client, sent, people):
    queued = request_to(people.second)
    client.force_login(people.second.user)

    inbox = client.get(reverse("matching:request_inbox"))
    response = client.post(
        reverse("matching:request_respond", args=[queued.pk]), {"action": "accept"}
    )

    assert "Mo Mentee" not in page_of(inbox)
    assert response.status_code == 404
    assert request_to(people.second).status == Status.QUEUED


def test_it_answers_404_for_a_mentors_own_enrolment(client, people, mentor):
    client.force_login(mentor)

    response = client.get(recommendations_url(people.first))

    assert response.status_code == 404


@pytest.mark.parametrize(
    "url_name", ["request_withdraw", "request_answer", "request_respond", "recommendations"]
)
def test_it_refuses_the_wrong_method(client, sent, people, mentee, mentor, url_name):
    arg = sent.pk if url_name in ("request_answer", "request_respond") else people.mentee.pk
    client.force_login(mentor if url_name == "request_respond" else mentee)
    url = reverse(f"matching:{url_name}", args=[arg])

    response = client.put(url) if url_name == "recommendations" else client.get(url)

    assert response.status_code == 405


# --- Recommendations --------------------------------------------------------------------------


def test_it_recommends_only_mentors_the_rules_allow_who_have_a_place(
    client, people, mentee, speaking, other_mentee
):
    cohort = people.mentee.cohort
    nia = Enrolment.objects.get(user=other_mentee)
    full_by_relationship = add_mentor(
        cohort, speaking, name="Fay Full", email="fay.full@example.org"
    )
    relationship = Relationship.objects.create(cohort=cohort, started_at=timezone.now())
    RelationshipMember.objects.create(
        relationship=relationship, enrolment=full_by_relationship, role="mentor"
    )
    RelationshipMember.objects.create(relationship=relationship, enrolment=nia, role="mentee")
    full_by_requests = add_mentor(
        cohort, speaking, name="Pam Popular", email="pam.popular@example.org"
    )
    MentorRequest.objects.create(
        cohort=cohort,
        mentee=nia,
        mentor=full_by_requests,
        status=Status.PENDING,
        sent_at=timezone.now(),
        respond_by=timezone.now() + dt.timedelta(days=7),
    )
    boss = add_mentor(cohort, speaking, name="Bo Boss", email="bo.boss@example.org")
    Profile.objects.filter(user=mentee).update(manager=boss.user)
    add_mentor(cohort, speaking, name="Fran French", email="fran@example.org", languages=["French"])
    EnrolmentFactory(
        cohort=cohort,
        user=UserFactory(display_name="Al Applied"),
        role=Enrolment.Role.MENTOR,
        status=Enrolment.Status.APPLIED,
    )
    client.force_login(mentee)

    response = client.get(recommendations_url(people.mentee))

    shown = {r.enrolment.user.display_name for r in response.context["recommended"]}
    assert shown == {"Maya Mentor", "Ravi Rao", "Sam Stone"}
    page = page_of(response)
    for hidden in ("Fay Full", "Pam Popular", "Bo Boss", "Fran French", "Al Applied"):
        assert hidden not in page
    top = response.context["recommended"][0]
    assert f"{top.percent}% fit" in page
    assert "Mentor has expertise in what the mentee wants to develop: public speaking" in page
    assert "Fifteen years of leading teams" in page
    assert "First choice" in page
    assert "Second choice" in page
    assert "Third choice" in page


def test_it_recommends_best_fit_first_and_ten_at_most(client, people, mentee, speaking):
    for n in range(12):
        add_mentor(
            people.mentee.cohort, speaking, name=f"Extra {n:02}", email=f"extra{n}@example.org"
        )
    client.force_login(mentee)

    recommended = client.get(recommendations_url(people.mentee)).context["recommended"]

    assert len(recommended) == 10
    scores = [r.score for r in recommended]
    assert scores == sorted(scores, reverse=True)


def test_it_never_shows_the_mentee_another_mentees_name_or_email(
    client, sent, people, mentee, other_mentee
):
    nia = Enrolment.objects.get(user=other_mentee)
    MentorRequest.objects.create(cohort=nia.cohort, mentee=nia, mentor=people.third, rank=1)
    client.force_login(mentee)
    services.mentor_request_withdraw(mentee=people.mentee)

    page = page_of(client.get(recommendations_url(people.mentee)))

    assert "Nia Newcomer" not in page
    assert "nia.newcomer@example.org" not in page


# --- Choosing and answering -------------------------------------------------------------------


def test_it_asks_the_first_choice_and_queues_the_others(
    client, people, mentee, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(mentee)

    with django_capture_on_commit_callbacks(execute=True):
        response = choose(
            client, people.mentee, people.first, people.second, people.third, note="Hello!"
        )

    assert response.status_code == 302
    assert statuses(people.mentee) == [Status.PENDING, Status.QUEUED, Status.QUEUED]
    assert [m.to for m in mailoutbox] == [[people.first.user.email]]
    assert "Mo Mentee would like you as their mentor" in mailoutbox[0].subject
    page = page_of(client.get(response.url))
    by = timezone.localtime(request_to(people.first).respond_by)
    assert (
        f"Your request went to Maya Mentor. If they decline or do not answer by "
        f"{by.day} {by:%B %Y}, it goes to your next choice."
    ) in page
    assert "Withdraw my requests" in page
    assert page.index("Maya Mentor") < page.index("Ravi Rao") < page.index("Sam Stone")
    assert "data-confirm" in page


@pytest.mark.parametrize(
    ("choices", "error"),
    [
        ((), "This field is required."),
        (("first", "first"), CHOOSE_DIFFERENT),
    ],
)
def test_it_wants_one_to_three_different_mentors(client, people, mentee, choices, error):
    client.force_login(mentee)
    mentors = [getattr(people, name) for name in choices]

    response = choose(client, people.mentee, *mentors)

    assert response.status_code == 200
    assert error in page_of(response)
    assert not MentorRequest.objects.exists()


def test_it_refuses_a_note_over_500_characters(client, people, mentee):
    client.force_login(mentee)

    response = choose(client, people.mentee, people.first, note="x" * 501)

    assert response.status_code == 200
    assert not MentorRequest.objects.exists()


def test_it_starts_the_relationship_when_the_mentor_accepts(
    client, sent, people, mentee, mentor, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(mentor)
    inbox = page_of(client.get(reverse("matching:request_inbox")))
    assert "Present our quarterly numbers to the board." in inbox
    assert "Public speaking" in inbox
    assert "7 days left" in inbox

    with django_capture_on_commit_callbacks(execute=True):
        response = respond(client, sent, "accept")

    assert "You are now Mo Mentee&#x27;s mentor" in page_of(response)
    relationship = Relationship.objects.get()
    assert set(relationship.members.values_list("enrolment_id", "role")) == {
        (people.first.pk, "mentor"),
        (people.mentee.pk, "mentee"),
    }
    assert statuses(people.mentee) == [Status.ACCEPTED, Status.WITHDRAWN, Status.WITHDRAWN]
    assert [m.subject for m in emails_to(mailoutbox, mentee)] == [
        "Maya Mentor accepted: you have a mentor"
    ]
    client.force_login(mentee)
    enrolment_page = page_of(client.get(reverse("programs:my_enrolment", args=[people.mentee.pk])))
    assert "Your mentor" in enrolment_page
    assert "Maya Mentor" in enrolment_page
    assert "maya.mentor@example.org" in enrolment_page
    assert relationship.explanation
    assert relationship.explanation in enrolment_page
    assert "Choose your mentor</a>" not in enrolment_page
    matched = page_of(client.get(recommendations_url(people.mentee)))
    assert "Maya Mentor" in matched
    assert "Back to your enrolment" in matched
    assert "Send my request" not in matched


def test_it_asks_the_next_choice_when_the_mentor_declines(
    client, sent, people, mentee, mentor, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(mentor)

    with django_capture_on_commit_callbacks(execute=True):
        respond(client, sent, "decline", reason="I am away most of the spring.")

    assert statuses(people.mentee) == [Status.DECLINED, Status.PENDING, Status.QUEUED]
    assert len(emails_to(mailoutbox, people.second.user)) == 1
    assert len(emails_to(mailoutbox, mentee)) == 1
    client.force_login(mentee)
    page = page_of(client.get(recommendations_url(people.mentee)))
    assert "I am away most of the spring." in page


def test_it_wants_a_reason_to_decline(client, sent, people, mentor, mailoutbox):
    client.force_login(mentor)

    response = respond(client, sent, "decline", reason="  ")

    assert services.DECLINE_NEEDS_REASON in page_of(response)
    assert statuses(people.mentee) == [Status.PENDING, Status.QUEUED, Status.QUEUED]


def test_it_lets_the_mentor_ask_and_the_mentee_answer(
    client, sent, people, mentee, mentor, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(mentor)
    with django_capture_on_commit_callbacks(execute=True):
        respond(client, sent, "question", question="Which day suits you?")
    assert request_to(people.first).status == Status.QUESTION
    client.force_login(mentee)
    page = page_of(client.get(recommendations_url(people.mentee)))
    assert "Which day suits you?" in page
    assert reverse("matching:request_answer", args=[sent.pk]) in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("matching:request_answer", args=[sent.pk]),
            {"answer": "Tuesdays."},
            follow=True,
        )

    assert "Your answer went to Maya Mentor" in page_of(response)
    assert request_to(people.first).status == Status.PENDING
    assert [m.subject for m in emails_to(mailoutbox, mentor)][-1] == (
        "Mo Mentee answered your question"
    )
    client.force_login(mentor)
    assert "Tuesdays." in page_of(client.get(reverse("matching:request_inbox")))


def test_it_wants_an_answer_that_says_something(client, sent, people, mentee, mentor):
    services.mentor_request_ask(request=sent, by_user=mentor, question="When?")
    client.force_login(mentee)

    response = client.post(
        reverse("matching:request_answer", args=[sent.pk]), {"answer": ""}, follow=True
    )

    assert "Write your answer." in page_of(response)
    assert request_to(people.first).status == Status.QUESTION


def test_it_asks_the_next_choice_once_a_request_expires(
    sent, people, mentee, mailoutbox, django_capture_on_commit_callbacks
):
    mailoutbox.clear()

    with time_machine.travel(sent.respond_by + dt.timedelta(hours=1), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert services.mentor_request_expire_due() == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert services.mentor_request_expire_due() == 0

    assert statuses(people.mentee) == [Status.EXPIRED, Status.PENDING, Status.QUEUED]
    assert len(emails_to(mailoutbox, people.second.user)) == 1
    assert len(emails_to(mailoutbox, mentee)) == 1
    assert len(mailoutbox) == 2


def test_it_withdraws_every_open_request(client, sent, people, mentee):
    client.force_login(mentee)

    response = client.post(
        reverse("matching:request_withdraw", args=[people.mentee.pk]), follow=True
    )

    assert statuses(people.mentee) == [Status.WITHDRAWN] * 3
    page = page_of(response)
    assert "Your requests are withdrawn" in page
    assert "Send my request" in page


def test_it_refuses_new_choices_while_requests_wait(client, sent, people, mentee):
    client.force_login(mentee)

    response = choose(client, people.mentee, people.second)

    assert response.status_code == 302
    assert services.REQUESTS_OPEN in page_of(client.get(response.url))
    assert statuses(people.mentee) == [Status.PENDING, Status.QUEUED, Status.QUEUED]


def test_it_explains_that_the_coordinator_matches_when_self_service_is_off(
    client, people, mentee, program
):
    program.mentees_may_request = False
    program.save(update_fields=["mentees_may_request"])
    client.force_login(mentee)

    response = client.get(recommendations_url(people.mentee))
    posted = choose(client, people.mentee, people.first)

    assert response.status_code == 200
    assert COORDINATOR_MATCHES in page_of(response)
    assert COORDINATOR_MATCHES in page_of(posted)
    assert not MentorRequest.objects.exists()
    with pytest.raises(Exception, match=services.SELF_SERVICE_OFF):
        services.mentor_request_create(mentee=people.mentee, mentors=[people.first])


def test_it_explains_when_the_cohort_is_not_matching_yet(client, people, mentee, cohort):
    cohort.status = Cohort.Status.ENROLLING
    cohort.save(update_fields=["status"])
    client.force_login(mentee)

    response = client.get(recommendations_url(people.mentee))

    assert services.SELF_SERVICE_CLOSED in page_of(response)
    assert "Send my request" not in page_of(response)


# --- The participant's enrolment page ---------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        (None, True),
        ("self_service_off", False),
        ("cohort_enrolling", False),
        ("not_approved", False),
    ],
)
def test_it_offers_to_choose_a_mentor_only_when_allowed(
    client, people, mentee, program, cohort, change, shown
):
    if change == "self_service_off":
        program.mentees_may_request = False
        program.save(update_fields=["mentees_may_request"])
    elif change == "cohort_enrolling":
        cohort.status = Cohort.Status.ENROLLING
        cohort.save(update_fields=["status"])
    elif change == "not_approved":
        Enrolment.objects.filter(pk=people.mentee.pk).update(status=Enrolment.Status.APPLIED)
    client.force_login(mentee)

    page = page_of(client.get(reverse("programs:my_enrolment", args=[people.mentee.pk])))

    assert (recommendations_url(people.mentee) in page) == shown
    assert ("Choose your mentor</a>" in page) == shown


def test_it_links_a_mentor_to_their_waiting_requests(client, sent, people, mentor):
    client.force_login(mentor)

    page = page_of(client.get(reverse("programs:my_enrolment", args=[people.first.pk])))

    assert "Mentor requests (1 waiting)" in page
    assert reverse("matching:request_inbox") in page


def test_it_shows_a_mentor_their_mentee(client, sent, people, mentor):
    services.mentor_request_accept(request=sent, by_user=mentor)
    client.force_login(mentor)

    page = page_of(client.get(reverse("programs:my_enrolment", args=[people.first.pk])))

    assert "Your mentee" in page
    assert "Mo Mentee" in page
    assert "mo.mentee@example.org" in page
    assert "Mentor requests (0 waiting)" in page


def test_it_shows_an_empty_inbox_with_what_happens_next(client, people, mentor):
    client.force_login(mentor)

    page = page_of(client.get(reverse("matching:request_inbox")))

    assert "No requests yet" in page
    assert (
        "Mentees who can choose their mentor will find you in their recommendations while you "
        "have a free place."
    ) in page


# --- Query counts -----------------------------------------------------------------------------

# Both with the session, the user and the site navigation's one (permissions, coordinator,
# relationships, unread notifications: five queries until issue 14).
INBOX_QUERIES = 6  # + waiting requests, their development areas, answered requests
# + the enrolment, any relationship, the requests; the cohort as the engine sees it (people,
# competencies, managers, past partners); mentor load (2); settings (2); the mentors shown.
RECOMMENDATIONS_QUERIES = 16


@pytest.mark.parametrize("count", [2, 12])
def test_it_lists_the_inbox_in_a_fixed_number_of_queries(
    client, people, mentor, speaking, count, django_assert_num_queries
):
    cohort = people.mentee.cohort
    now = timezone.now()
    for n in range(count):
        asking = add_mentee(cohort, speaking, name=f"Asker {n}", email=f"asker{n}@example.org")
        MentorRequest.objects.create(
            cohort=cohort,
            mentee=asking,
            mentor=people.first,
            status=Status.PENDING if n % 2 else Status.DECLINED,
            decline_reason="" if n % 2 else "Full this spring.",
            sent_at=now,
            respond_by=now + dt.timedelta(days=7),
        )
    client.force_login(mentor)

    with django_assert_num_queries(INBOX_QUERIES):
        response = client.get(reverse("matching:request_inbox"))

    assert len(response.context["inbox"].open) + len(response.context["inbox"].answered) == count


@pytest.mark.parametrize("count", [5, 30])
def test_it_recommends_in_a_fixed_number_of_queries(
    client, self_service, mentee, speaking, count, django_assert_num_queries
):
    mo = Enrolment.objects.get(user=mentee)
    ProfileFactory(user=mentee, languages=["English"])
    EnrolmentCompetencyFactory(enrolment=mo, competency=speaking)
    for n in range(count):
        add_mentor(self_service, speaking, name=f"Mentor {n:02}", email=f"m{n}@example.org")
    client.force_login(mentee)

    with django_assert_num_queries(RECOMMENDATIONS_QUERIES):
        response = client.get(recommendations_url(mo))

    assert len(response.context["recommended"]) == min(count, 10)


def test_it_refuses_a_mentor_who_filled_up_since_the_page_was_shown(
    client, people, mentee, speaking
):
    cohort = people.mentee.cohort
    for n in range(people.first.capacity):  # Maya's places fill with other mentees' requests
        MentorRequest.objects.create(
            cohort=cohort,
            mentee=add_mentee(cohort, speaking, name=f"Asker {n}", email=f"a{n}@example.org"),
            mentor=people.first,
            status=Status.PENDING,
            sent_at=timezone.now(),
            respond_by=timezone.now() + dt.timedelta(days=7),
        )
    client.force_login(mentee)

    response = choose(client, people.mentee, people.first)

    assert response.status_code == 200
    assert NO_LONGER_FREE in page_of(response)
    assert not people.mentee.requests_made.exists()


# --- The service behind the pages --------------------------------------------------------------


def test_it_refuses_requests_from_a_mentee_not_yet_approved(people):
    Enrolment.objects.filter(pk=people.mentee.pk).update(status=Enrolment.Status.APPLIED)
    people.mentee.refresh_from_db()

    with pytest.raises(ValidationError):
        services.mentor_request_create(mentee=people.mentee, mentors=[people.first])
