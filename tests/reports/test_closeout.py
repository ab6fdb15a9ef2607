"""The cohort close-out report: who may read it, what it says (outcomes, survey results, what
people said they gained, the leadership pipeline), what it never says, the PDF, and its cost in
queries at any size."""

from __future__ import annotations

import sys

import pytest
from django.urls import reverse
from django.utils.html import escape

from goals.models import Goal, ReadinessRating, SurveyResponse
from matching.models import Relationship
from programs.models import Cohort, FeedbackQuestion
from reports.selectors.closeout import closeout_report_for
from reports.views.closeout import PDF_UNAVAILABLE, closeout_document_html
from tests.factories import (
    FeedbackQuestionFactory,
    GoalFactory,
    ProfileFactory,
    ReadinessRatingFactory,
    RelationshipFactory,
    SurveyAnswerFactory,
    SurveyResponseFactory,
    UserFactory,
)
from tests.reports.test_exports import PERSONAS_REFUSED, SECRETS, build_cohort, plant_secrets

pytestmark = pytest.mark.django_db

GAIN = "What did you gain from the program?"


def closeout_url(cohort: Cohort) -> str:
    return reverse("reports:closeout", args=[cohort.pk])


def pdf_url(cohort: Cohort) -> str:
    return reverse("reports:closeout_pdf", args=[cohort.pk])


def final_answer(relationship: Relationship, role: str, question, text: str) -> None:
    author = relationship.members.get(role=role)
    response, _ = SurveyResponse.objects.get_or_create(
        relationship=relationship, author=author, stage=SurveyResponse.Stage.FINAL
    )
    SurveyAnswerFactory(response=response, question=question, scale_value=None, text_value=text)


# --- Who may read it ------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS_REFUSED)
@pytest.mark.parametrize("url", [closeout_url, pdf_url])
def test_it_refuses_everyone_but_the_programs_coordinators(
    client, sign_in, cohort, mentor, mentee, other_program, persona, url
):
    RelationshipFactory(cohort=cohort, mentor=mentor, mentee=mentee)
    sign_in(persona)

    assert client.get(url(cohort)).status_code == 404


@pytest.mark.parametrize("url", [closeout_url, pdf_url])
def test_it_sends_the_anonymous_visitor_to_sign_in(client, cohort, url):
    response = client.get(url(cohort))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_it_shows_the_coordinator_the_report_with_print_and_pdf(client, sign_in, cohort):
    build_cohort(cohort, pairs=3)
    sign_in("coordinator")

    response = client.get(closeout_url(cohort))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Close-out report: Leadership Mentoring, Spring" in html
    assert "data-print" in html
    assert f'href="{pdf_url(cohort)}"' in html
    assert "page-closeout" in html  # the print stylesheet's hook


# --- What it says ---------------------------------------------------------------------------


def test_it_counts_outcomes_against_goals(cohort):
    build_cohort(cohort, pairs=3)  # each: one goal done, one on track, two check-ins
    RelationshipFactory(cohort=cohort, ended=True)

    outcomes = closeout_report_for(cohort=cohort).outcomes

    assert (outcomes.relationships, outcomes.active) == (4, 3)
    assert dict(outcomes.by_outcome)["Ended early"] == 1
    assert (outcomes.goals, outcomes.goals_done, outcomes.goals_open) == (6, 3, 3)
    assert outcomes.goals_done_percent == 50
    assert outcomes.goal_progress == 75
    assert (outcomes.check_ins, outcomes.confirmed_check_ins) == (6, 3)
    assert outcomes.check_ins_per_relationship == 1.5
    assert (outcomes.mentees_with_goals, outcomes.mentees_completed) == (3, 0)


def test_it_gives_survey_averages_only_from_three_answers(client, sign_in, cohort):
    relationships = build_cohort(cohort, pairs=3)
    rare = FeedbackQuestionFactory(program=cohort.program, text="Rarely answered?", position=7)
    SurveyAnswerFactory(
        response=SurveyResponse.objects.get(relationship=relationships[0]),
        question=rare,
        scale_value=1,
    )

    results = {r.question: r for r in closeout_report_for(cohort=cohort).survey_results}

    assert (
        results["How useful are your meetings?"].answered,
        results["How useful are your meetings?"].average,
    ) == (3, 4.0)
    assert results["Rarely answered?"].held_back
    sign_in("coordinator")
    html = client.get(closeout_url(cohort)).content.decode()
    assert "shown from 3 answers" in html


def test_it_quotes_what_people_gained_only_from_answers_meant_for_the_coordinator(
    client, sign_in, cohort
):
    relationships = build_cohort(cohort, pairs=4)
    gain = FeedbackQuestionFactory(program=cohort.program, text=GAIN, answer_kind="text")
    thanks = FeedbackQuestionFactory(
        program=cohort.program,
        text="What do you thank your partner for?",
        answer_kind="text",
        visible_to=FeedbackQuestion.VisibleTo.PARTNER,
    )
    for i, relationship in enumerate(relationships[:3]):
        final_answer(relationship, "mentee", gain, f"Confidence {i} in front of the board.")
        final_answer(relationship, "mentee", thanks, f"zq-thanks-{i}")
    final_answer(relationships[0], "mentor", gain, "zq-one-mentor-only")
    sign_in("coordinator")

    html = client.get(closeout_url(cohort)).content.decode()

    for i in range(3):
        assert f"Confidence {i} in front of the board." in html
    assert "zq-thanks-" not in html  # written for the partner
    assert "zq-one-mentor-only" not in html  # one mentor: below the threshold
    assert "held back until 3 people in this role have answered" in html


def test_it_lists_mentees_who_completed_their_goals_with_their_mentors_rating(
    client, sign_in, cohort, mentor, mentee
):
    pair = RelationshipFactory(cohort=cohort, mentor=mentor, mentee=mentee)
    ProfileFactory(user=mentee, department="Finance", job_title="Analyst", job_level=2)
    GoalFactory(relationship=pair, status=Goal.Status.DONE, progress=100)
    GoalFactory(relationship=pair, status=Goal.Status.DONE, progress=100)
    GoalFactory(relationship=pair, status=Goal.Status.DROPPED)
    ReadinessRatingFactory(
        response=SurveyResponseFactory(
            relationship=pair,
            author=pair.members.get(role="mentor"),
            stage=SurveyResponse.Stage.FINAL,
        ),
        mentee=pair.members.get(role="mentee"),
        readiness=ReadinessRating.Readiness.READY_SOON,
    )
    unrated = RelationshipFactory(cohort=cohort, mentee=UserFactory(display_name="Una Unrated"))
    GoalFactory(relationship=unrated, status=Goal.Status.DONE, progress=100)
    still_going = RelationshipFactory(cohort=cohort, mentee=UserFactory(display_name="Sam Still"))
    GoalFactory(relationship=still_going, status=Goal.Status.DONE, progress=100)
    GoalFactory(relationship=still_going, status=Goal.Status.ON_TRACK, progress=60)

    pipeline = closeout_report_for(cohort=cohort).pipeline

    assert [(e.mentee, e.readiness_label) for e in pipeline] == [
        ("Mo Mentee", "Ready within a year"),
        ("Una Unrated", "Not rated"),
    ]
    mo = pipeline[0]
    assert (mo.department, mo.job_title, mo.job_level, mo.mentors, mo.goals_done) == (
        "Finance",
        "Analyst",
        "Professional",
        "Maya Mentor",
        2,
    )
    sign_in("coordinator")
    html = client.get(closeout_url(cohort)).content.decode()
    assert "Ready within a year" in html
    assert "Sam Still" not in html
    assert escape(ReadinessRating.READERS) in html  # who reads it, as the mentors were told


# --- What it never says ---------------------------------------------------------------------


def test_it_never_shows_a_private_or_individual_text_in_the_page_or_the_pdf(
    client, sign_in, cohort
):
    relationships = build_cohort(cohort, pairs=3)
    plant_secrets(relationships[0])
    sign_in("coordinator")

    page = client.get(closeout_url(cohort)).content.decode()
    # The PDF is drawn from this document (WeasyPrint compresses its text, so the document
    # that feeds it is what is searched).
    document = closeout_document_html(report=closeout_report_for(cohort=cohort))

    assert "How useful are your meetings?" in page  # a real report
    assert "How useful are your meetings?" in document
    for secret in SECRETS:
        assert secret not in page, secret
        assert secret not in document, secret


# --- The PDF --------------------------------------------------------------------------------


def test_it_downloads_the_report_as_a_pdf(client, sign_in, cohort):
    build_cohort(cohort, pairs=3)
    sign_in("coordinator")

    response = client.get(pdf_url(cohort))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="leadership-mentoring-spring-close-out.pdf"' in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF-")


def test_it_points_to_the_print_button_when_the_pdf_cannot_be_made(
    client, sign_in, cohort, monkeypatch
):
    # As on a machine without WeasyPrint or the Pango library it loads.
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    sign_in("coordinator")

    response = client.get(pdf_url(cohort), follow=True)

    assert response.redirect_chain == [(closeout_url(cohort), 302)]
    assert PDF_UNAVAILABLE in [str(m) for m in response.context["messages"]]
    assert "data-print" in response.content.decode()


# --- The same number of queries at any size -------------------------------------------------

# Session, user, the cohort; then participants 1, relationships by outcome 1, check-ins 1,
# goals 1, survey results 1, pulses 1, what people gained 1, the pipeline 3 (its mentees, their
# mentors, the ratings): 13 for the PDF; the page adds the menu's one query.
PDF_QUERIES = 13
PAGE_QUERIES = PDF_QUERIES + 1


@pytest.mark.parametrize("pairs", [2, 12])
@pytest.mark.parametrize(("url", "queries"), [(closeout_url, PAGE_QUERIES), (pdf_url, PDF_QUERIES)])
def test_it_reads_a_fixed_number_of_queries_at_any_size(
    client, sign_in, cohort, django_assert_num_queries, pairs, url, queries
):
    relationships = build_cohort(cohort, pairs=pairs)
    for relationship in relationships:  # everyone completed their goals and was rated
        Goal.objects.filter(relationship=relationship).update(status=Goal.Status.DONE)
        ReadinessRatingFactory(
            response=SurveyResponseFactory(
                relationship=relationship,
                author=relationship.members.get(role="mentor"),
                stage=SurveyResponse.Stage.FINAL,
            )
        )
    sign_in("coordinator")

    with django_assert_num_queries(queries):
        response = client.get(url(cohort))

    assert response.status_code == 200
    assert len(closeout_report_for(cohort=cohort).pipeline) == pairs
