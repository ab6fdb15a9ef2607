"""A new program starts with survey questions, so its first cohort gets a midpoint and a final
survey: the coordinator sees them on the program's page and may change them; members of every
kind of program are asked them; the close-out report and the dashboards read their answers."""

from __future__ import annotations

import pytest
from django.urls import reverse

from goals import services as goal_services
from matching.models import RelationshipMember
from programs import services
from programs.models import Cohort, FeedbackQuestion, Program
from reports.selectors import dashboard
from reports.selectors.closeout import closeout_report_for
from reports.selectors.dashboard import Filters
from tests.factories import CohortFactory, RelationshipFactory, RelationshipMemberFactory
from tests.programs.test_coordinator_views import allow_program_creation, program_data

pytestmark = pytest.mark.django_db

USEFUL = "How useful have your meetings been?"
GOALS = "How much progress have you made on the goals you set together?"
HELPED = "What has helped you most so far, and what have you gained?"
CHANGE = "What would you change to make the rest of the program more useful?"
RECOMMEND = "How likely are you to recommend this program to a colleague?"


def test_it_starts_a_new_program_with_questions_its_coordinator_can_change(coordinator):
    program = services.program_create(created_by=coordinator, name="Graduate Mentoring")

    questions = list(program.questions.order_by("position"))
    assert [(q.text, q.answer_kind) for q in questions] == [
        (USEFUL, "scale"),
        (GOALS, "scale"),
        (HELPED, "text"),
        (CHANGE, "text"),
        (RECOMMEND, "scale"),
    ]
    # Asked of everyone, read by the coordinator only, as the survey tells who answers them.
    assert {(q.asked_of, q.get_visible_to_display()) for q in questions} == {
        ("everyone", "The coordinator only")
    }

    services.program_feedback_questions_set(
        program=program,
        questions=[
            {"id": questions[0].pk, "text": USEFUL, "answer_kind": "scale"},
            {"text": "What did your mentor help you see?", "answer_kind": "text"},
        ],
    )
    assert list(program.questions.order_by("position").values_list("text", flat=True)) == [
        USEFUL,
        "What did your mentor help you see?",
    ]
    # Another program starts with its own set, untouched by this one's edits.
    other = services.program_create(created_by=coordinator, name="Sales Mentoring")
    assert other.questions.count() == 5


def test_it_asks_peers_the_default_questions_too(coordinator):
    program = services.program_create(created_by=coordinator, name="Peers", kind=Program.Kind.PEER)
    peers = RelationshipFactory(
        cohort=CohortFactory(program=program, status=Cohort.Status.ACTIVE),
        mentor=False,
        mentee=False,
    )
    member = RelationshipMemberFactory(relationship=peers, role=RelationshipMember.Role.PEER)

    asked = goal_services.survey_questions_for(member=member)

    assert [q.text for q in asked] == [USEFUL, GOALS, HELPED, CHANGE, RECOMMEND]


def test_it_shows_the_new_programs_questions_and_who_reads_them(client, coordinator):
    client.force_login(allow_program_creation(coordinator))

    response = client.post(reverse("programs:program_create"), program_data())
    assert response.status_code == 302
    program = Program.objects.get(name="Graduate Mentoring")
    page = client.get(reverse("programs:program_detail", args=[program.pk])).content.decode()

    assert "No feedback questions yet." not in page
    assert USEFUL in page
    assert "seen by the coordinator only" in page


def test_the_close_out_report_and_dashboard_read_the_default_questions(coordinator):
    program = services.program_create(created_by=coordinator, name="Graduate Mentoring")
    cohort = CohortFactory(program=program, status=Cohort.Status.CLOSING)
    for n in range(3):
        relationship = RelationshipFactory(cohort=cohort)
        mentee = relationship.members.get(role=RelationshipMember.Role.MENTEE)
        answers: dict[int, int | str | None] = {}
        for question in goal_services.survey_questions_for(member=mentee):
            if question.answer_kind == FeedbackQuestion.AnswerKind.SCALE:
                answers[question.pk] = 5 if question.text == RECOMMEND else 4
            elif question.text == HELPED:
                answers[question.pk] = f"Practising the board update {n}."
        goal_services.survey_submit(
            relationship=relationship, member=mentee, stage="final", answers=answers
        )

    report = closeout_report_for(cohort=cohort)
    averages = {r.question: r.average for r in report.survey_results}
    assert averages[USEFUL] == 4.0
    assert averages[RECOMMEND] == 5.0
    (gains,) = report.gains
    assert gains.question == HELPED
    assert len(gains.texts) == 3

    figures = dashboard.dashboard_figures(
        scope=dashboard.scope_for_cohort(cohort=cohort), filters=Filters()
    )
    assert figures.has_recommend_question
    assert figures.total.recommend.average == 5.0
    useful = next(q for q in figures.questions if q.text == USEFUL)
    assert useful.released.average == 4.0
