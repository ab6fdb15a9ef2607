"""Feedback and reflection pages: who may open them (members only; the coordinator sees
cohort aggregates instead), the surveys' open/closed/done states, the pulse given once, and
the three-answer floor under every aggregate a coordinator sees."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from goals import services
from goals.models import CheckIn, Pulse, Reflection, SurveyAnswer, SurveyResponse
from matching.models import Relationship, RelationshipMember
from programs.models import Cohort, FeedbackQuestion
from tests.factories import RelationshipFactory, RelationshipMemberFactory, UserFactory

pytestmark = pytest.mark.django_db


def member(relationship: Relationship, user: User) -> RelationshipMember:
    return relationship.members.get(enrolment__user=user)


def open_midpoint(cohort: Cohort) -> None:
    """Move the cohort so that it is active and past half-way."""
    today = timezone.localdate()
    cohort.status = Cohort.Status.ACTIVE
    cohort.starts_on = today - dt.timedelta(days=100)
    cohort.ends_on = today + dt.timedelta(days=82)
    cohort.save()


def log_check_in(relationship: Relationship, user: User, **extra) -> CheckIn:
    return services.check_in_log(
        relationship=relationship,
        member=member(relationship, user),
        met_on=timezone.localdate() - dt.timedelta(days=1),
        duration_minutes=45,
        mode=CheckIn.Mode.VIDEO,
        summary="We talked about delegation.",
        **extra,
    )


@pytest.fixture
def pair(cohort, mentor, mentee) -> Relationship:
    """Maya Mentor with Mo Mentee, active, in `cohort`."""
    return RelationshipFactory(cohort=cohort, mentor=mentor, mentee=mentee)


@pytest.fixture
def other_pair(cohort) -> Relationship:
    """Two other people in the same cohort: must never see `pair`'s pages."""
    return RelationshipFactory(
        cohort=cohort,
        mentor=UserFactory(email="theo.mentor@example.org", display_name="Theo Mentor"),
        mentee=UserFactory(email="dana.mentee@example.org", display_name="Dana Mentee"),
    )


@pytest.fixture
def check_in(pair, mentee) -> CheckIn:
    return log_check_in(pair, mentee)


@pytest.fixture
def reflection(pair, mentee) -> Reflection:
    return services.reflection_write(
        author=mentee, relationship=pair, stage="start", prompt="Why?", text="Mine."
    )


@pytest.fixture
def people(request, mentor, mentee, coordinator, other_coordinator, outsider, other_pair):
    return {
        "mentor": mentor,
        "mentee": mentee,
        "other_pair_mentor": other_pair.members.get(role="mentor").enrolment.user,
        "other_pair_mentee": other_pair.members.get(role="mentee").enrolment.user,
        "coordinator": coordinator,
        "other_coordinator": other_coordinator,
        "outsider": outsider,
        "anonymous": None,
    }


MEMBER_PAGE = {
    "mentor": 200,
    "mentee": 200,
    "other_pair_mentor": 404,
    "other_pair_mentee": 404,
    "coordinator": 404,
    "other_coordinator": 404,
    "outsider": 404,
    "anonymous": 302,
}
MEMBER_ACTION = {**MEMBER_PAGE, "mentor": 302, "mentee": 302}
AUTHOR_ACTION = {**MEMBER_ACTION, "mentor": 404}  # the mentee wrote the reflection
COORDINATOR_PAGE = {
    **MEMBER_PAGE,
    "mentor": 404,
    "mentee": 404,
    "coordinator": 200,
}
ANY_SIGNED_IN = {name: (302 if name == "anonymous" else 200) for name in MEMBER_PAGE}


@pytest.mark.parametrize("persona", list(MEMBER_PAGE))
def test_it_lets_only_the_right_people_in(client, persona, people, pair, check_in, reflection):
    user = people[persona]
    if user is not None:
        client.force_login(user)
    cases = [
        ("get", reverse("goals:reflections", args=[pair.pk]), {}, MEMBER_PAGE),
        ("get", reverse("goals:survey", args=[pair.pk, "midpoint"]), {}, MEMBER_PAGE),
        ("get", reverse("goals:survey", args=[pair.pk, "final"]), {}, MEMBER_PAGE),
        ("post", reverse("goals:pulse_give", args=[check_in.pk]), {"usefulness": 4}, MEMBER_ACTION),
        (
            "post",
            reverse("goals:reflection_share", args=[reflection.pk]),
            {"shared": "1"},
            AUTHOR_ACTION,
        ),
        ("get", reverse("goals:cohort_feedback", args=[pair.cohort_id]), {}, COORDINATOR_PAGE),
        ("get", reverse("goals:calendar_settings"), {}, ANY_SIGNED_IN),
    ]
    for method, url, data, expected in cases:
        response = getattr(client, method)(url, data)
        assert response.status_code == expected[persona], (persona, url)
        if persona == "anonymous":
            assert response["Location"].startswith(reverse("account_login")), url


def test_it_answers_404_for_an_unknown_survey_stage(client, mentee, pair):
    client.force_login(mentee)

    assert client.get(reverse("goals:survey", args=[pair.pk, "weekly"])).status_code == 404


def test_it_refuses_get_on_post_only_actions(client, mentee, check_in, reflection):
    client.force_login(mentee)

    assert client.get(reverse("goals:pulse_give", args=[check_in.pk])).status_code == 405
    assert client.get(reverse("goals:reflection_share", args=[reflection.pk])).status_code == 405


# --- Surveys ----------------------------------------------------------------------------------


@pytest.fixture
def questions(program) -> dict[str, FeedbackQuestion]:
    return {
        "useful": FeedbackQuestion.objects.create(
            program=program,
            text="How useful is your mentoring?",
            answer_kind="scale",
            visible_to="partner",
            position=1,
        ),
        "better": FeedbackQuestion.objects.create(
            program=program,
            text="What could be better?",
            answer_kind="text",
            visible_to="coordinator",
            position=2,
        ),
        "mentors_only": FeedbackQuestion.objects.create(
            program=program, text="Is your mentee prepared?", answer_kind="scale", asked_of="mentor"
        ),
    }


def test_it_says_when_a_survey_is_not_open_yet(client, mentee, pair, questions):
    client.force_login(mentee)

    response = client.get(reverse("goals:survey", args=[pair.pk, "midpoint"]))

    assert response.status_code == 200
    assert b"not open yet" in response.content
    assert b"How useful is your mentoring?" not in response.content


def test_it_asks_the_members_questions_and_says_who_sees_each(client, mentee, pair, questions):
    open_midpoint(pair.cohort)
    client.force_login(mentee)

    response = client.get(reverse("goals:survey", args=[pair.pk, "midpoint"]))

    html = response.content.decode()
    assert "How useful is your mentoring?" in html
    assert "What could be better?" in html
    assert "Is your mentee prepared?" not in html  # asked of mentors only
    assert "Seen by your partner and the coordinator" in html
    assert "Seen by the coordinator only" in html
    assert 'type="radio"' in html
    assert "<textarea" in html


def test_it_stores_the_answers_then_thanks(client, mentee, pair, questions):
    open_midpoint(pair.cohort)
    client.force_login(mentee)
    url = reverse("goals:survey", args=[pair.pk, "midpoint"])
    useful, better = questions["useful"], questions["better"]

    response = client.post(url, {f"q{useful.pk}": "4", f"q{better.pk}": "More time."})

    assert response.status_code == 302
    answers = SurveyAnswer.objects.filter(response__author__enrolment__user=mentee)
    assert {(a.question_id, a.scale_value, a.text_value) for a in answers} == {
        (useful.pk, 4, ""),
        (better.pk, None, "More time."),
    }
    assert answers.get(question=better).visible_to == "coordinator"
    done = client.get(url)
    assert b"Thank you" in done.content
    again = client.post(url, {f"q{useful.pk}": "1"})  # sent again: back to the thank-you page
    assert (again.status_code, again.url) == (302, url)
    assert SurveyResponse.objects.count() == 1


def test_it_needs_every_scale_answer(client, mentee, pair, questions):
    open_midpoint(pair.cohort)
    client.force_login(mentee)

    response = client.post(reverse("goals:survey", args=[pair.pk, "midpoint"]), {})

    assert response.status_code == 200
    assert response.context["form"].errors[f"q{questions['useful'].pk}"]
    assert not SurveyResponse.objects.exists()


# --- Pulse ----------------------------------------------------------------------------------


def test_it_takes_a_pulse_once(client, mentor, pair, check_in):
    client.force_login(mentor)
    url = reverse("goals:pulse_give", args=[check_in.pk])

    first = client.post(url, {"usefulness": "5", "line": "Great."}, follow=False)
    second = client.post(url, {"usefulness": "1"}, follow=True)

    assert first["Location"] == reverse("goals:relationship_home", args=[pair.pk])
    assert Pulse.objects.get().usefulness == 5
    assert Pulse.objects.get().line == "Great."
    assert services.PULSE_GIVEN in [str(m) for m in second.context["messages"]]


def test_it_refuses_a_pulse_out_of_range(client, mentor, check_in):
    client.force_login(mentor)

    client.post(reverse("goals:pulse_give", args=[check_in.pk]), {"usefulness": "9"})

    assert not Pulse.objects.exists()


# --- Reflections ----------------------------------------------------------------------------


def test_it_keeps_a_new_reflection_private_unless_shared(client, mentee, mentor, pair):
    client.force_login(mentee)
    url = reverse("goals:reflections", args=[pair.pk])

    page = client.get(url)
    assert "Private by default" in page.content.decode()
    assert b"What specific qualities" in page.content  # a prompt of the start stage

    first = client.post(url, {"prompt": "", "own_prompt": "My question", "text": "Kept to myself."})
    second = client.post(url, {"own_prompt": "Us", "text": "For us both.", "shared": "on"})
    assert (first.status_code, second.status_code) == (302, 302), second.context["form"].errors

    private, shared = Reflection.objects.order_by("pk")
    assert (private.shared, private.prompt, private.stage) == (False, "My question", "start")
    assert shared.shared is True
    client.force_login(mentor)
    partner_page = client.get(url).content.decode()
    assert "For us both." in partner_page
    assert "Kept to myself." not in partner_page


def test_it_asks_the_mentor_a_mentors_questions_not_a_mentees(client, mentor, mentee, pair):
    url = reverse("goals:reflections", args=[pair.pk])
    client.force_login(mentor)
    mentor_page = client.get(url).content.decode()
    assert "What do you hope to pass on in this relationship" in mentor_page
    assert "qualities do you look for in a mentor" not in mentor_page
    home = client.get(reverse("goals:relationship_home", args=[pair.pk])).content.decode()
    assert "What do you hope to pass on in this relationship" in home

    # The mentor's prompt is one they may pick, and the entry keeps it.
    prompt = "How will you give your mentee room to create themselves, rather than a copy of you?"
    response = client.post(url, {"prompt": prompt, "text": "By asking more than I tell."})
    assert response.status_code == 302, response.context["form"].errors
    assert Reflection.objects.get().prompt == prompt

    client.force_login(mentee)
    mentee_page = client.get(url).content.decode()
    assert "qualities do you look for in a mentor" in mentee_page
    assert "What do you hope to pass on" not in mentee_page


def test_it_asks_the_mentor_about_feedback_given_in_the_middle(client, mentor, mentee, pair):
    pair.started_at = timezone.now() - dt.timedelta(days=120)  # past a third of the cohort
    pair.save()
    url = reverse("goals:reflections", args=[pair.pk])
    client.force_login(mentor)
    page = client.get(url).content.decode()
    assert "a time you gave your mentee critical feedback" in page
    assert "critical feedback from your mentor" not in page
    client.force_login(mentee)
    assert "critical feedback from your mentor" in client.get(url).content.decode()


def test_it_asks_peers_about_learning_from_each_other(client, cohort):
    peers = RelationshipFactory(cohort=cohort, mentor=False, mentee=False)
    first, _ = (
        RelationshipMemberFactory(relationship=peers, role=RelationshipMember.Role.PEER)
        for _ in range(2)
    )
    client.force_login(first.enrolment.user)
    page = client.get(reverse("goals:reflections", args=[peers.pk])).content.decode()
    assert "What experience could you offer your peers" in page
    assert (
        "mentor"
        not in re.sub(r"<[^>]+>", "", page.split('id="write-title"')[1].split("</form>")[0]).lower()
    )


def test_it_lets_the_author_share_and_unshare(client, mentee, mentor, pair, reflection):
    client.force_login(mentee)
    share = reverse("goals:reflection_share", args=[reflection.pk])

    client.post(share, {"shared": "1"})
    reflection.refresh_from_db()
    assert reflection.shared is True

    client.post(share, {"shared": "0"})
    reflection.refresh_from_db()
    assert reflection.shared is False


# --- The coordinator's cohort feedback ------------------------------------------------------


def _answer(relationship: Relationship, user: User, question, *, scale=None, text=""):
    response = SurveyResponse.objects.create(
        relationship=relationship, author=member(relationship, user), stage="midpoint"
    )
    SurveyAnswer.objects.create(
        response=response,
        question=question,
        scale_value=scale,
        text_value=text,
        visible_to=question.visible_to,
    )


def test_it_hides_aggregates_below_three_answers(
    client, coordinator, mentor, mentee, pair, other_pair, questions
):
    client.force_login(coordinator)
    url = reverse("goals:cohort_feedback", args=[pair.cohort_id])
    theo = other_pair.members.get(role="mentor").enrolment.user
    _answer(pair, mentee, questions["better"], text="Comment from Mo")
    _answer(pair, mentor, questions["better"], text="Comment from Maya")

    two = client.get(url).content.decode()
    assert "Comment from Mo" not in two
    assert "Comment from Maya" not in two
    assert "shown from 3 answers" in two

    _answer(other_pair, theo, questions["better"], text="Comment from Theo")
    three = client.get(url).content.decode()
    assert "Comment from Mo" in three
    assert "Comment from Theo" in three


def _midpoint_rows(response):
    return dict(response.context["stages"])["Midpoint"]


def test_it_shows_an_average_from_three_answers(
    client, coordinator, mentor, mentee, pair, other_pair, questions
):
    client.force_login(coordinator)
    url = reverse("goals:cohort_feedback", args=[pair.cohort_id])
    theo = other_pair.members.get(role="mentor").enrolment.user
    _answer(pair, mentee, questions["useful"], scale=5)
    _answer(pair, mentor, questions["useful"], scale=4)
    two = client.get(url)
    assert _midpoint_rows(two)[0].average is None
    assert "shown from 3 answers" in two.content.decode()

    _answer(other_pair, theo, questions["useful"], scale=3)
    three = client.get(url)
    assert _midpoint_rows(three)[0].average == 4.0
    assert "shown from 3 answers" not in three.content.decode()
    assert ">4.0<" in re.sub(r"\s+", "", three.content.decode())


def test_it_counts_relationships_by_health(client, coordinator, pair, other_pair):
    client.force_login(coordinator)

    response = client.get(reverse("goals:cohort_feedback", args=[pair.cohort_id]))

    counts = {status: count for status, _, count in response.context["health_counts"]}
    assert sum(counts.values()) == 2
    assert response.context["active_total"] == 2


def test_it_needs_a_question_to_reflect_on(client, mentee, pair):
    client.force_login(mentee)

    response = client.post(reverse("goals:reflections", args=[pair.pk]), {"text": "Hmm."})

    assert response.context["form"].errors["own_prompt"]
    assert not Reflection.objects.exists()


def test_it_shows_the_partner_only_the_answers_meant_for_them(
    client, pair, mentor, mentee, coordinator
):
    """A question says who reads its answers: the partner sees those meant for the partner on
    the relationship page; answers for the coordinator only never reach the partner."""
    from programs.models import FeedbackQuestion

    program = pair.cohort.program
    for_partner = FeedbackQuestion.objects.create(
        program=program,
        text="What does your mentor do best?",
        answer_kind="text",
        asked_of="mentee",
        visible_to="partner",
    )
    coordinator_only = FeedbackQuestion.objects.create(
        program=program,
        text="Anything the coordinator should know?",
        answer_kind="text",
        asked_of="mentee",
        visible_to="coordinator",
        position=1,
    )
    response = SurveyResponse.objects.create(
        relationship=pair, author=member(pair, mentee), stage="midpoint"
    )
    SurveyAnswer.objects.create(
        response=response,
        question=for_partner,
        text_value="Asks the right questions",
        visible_to="partner",
    )
    SurveyAnswer.objects.create(
        response=response,
        question=coordinator_only,
        text_value="PRIVATE-TO-COORDINATOR",
        visible_to="coordinator",
    )
    client.force_login(mentor)

    page = client.get(reverse("goals:relationship_home", args=[pair.pk])).content.decode()

    assert "Asks the right questions" in page
    assert "PRIVATE-TO-COORDINATOR" not in page
