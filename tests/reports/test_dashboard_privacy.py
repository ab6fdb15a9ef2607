"""The dashboards show activity and aggregates, never what anyone wrote: unique markers are
planted in private notes, private and shared reflections, survey answers (free text, and a
scale answer nobody else gave), check-in summaries, comments, pulse lines and goal titles, and
every dashboard, chart, data table, drill-down page and the nudge's emails are searched for
them, for every persona who can open them. A pair's own feedback score, which health quotes to
the pair, reaches the coordinator without its number."""

from __future__ import annotations

import datetime as dt
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from goals.models import SurveyResponse
from programs.models import Cohort, FeedbackQuestion
from reports import services
from reports.selectors.dashboard import DRILL_FIGURES
from tests.factories import (
    CheckInCommentFactory,
    CheckInFactory,
    FeedbackQuestionFactory,
    GoalFactory,
    PrivateNoteFactory,
    PulseFactory,
    ReflectionFactory,
    RelationshipFactory,
    SurveyAnswerFactory,
    SurveyResponseFactory,
)
from tests.reports.dashboard_world import grow

pytestmark = pytest.mark.django_db

NOTE = "zq-dash-note-3b1f"
CHECK_IN_NOTE = "zq-dash-check-in-note-77a0"
REFLECTION = "zq-dash-reflection-c90e"
SHARED = "zq-dash-shared-reflection-4d2a"
ANSWER = "zq-dash-answer-e5f7"
PARTNER_ANSWER = "zq-dash-partner-answer-18bb"
SUMMARY = "zq-dash-summary-a0c3"
COMMENT = "zq-dash-comment-6e12"
PULSE_LINE = "zq-dash-pulse-line-29dd"
GOAL = "zq-dash-goal-f401"
MARKERS = (
    NOTE,
    CHECK_IN_NOTE,
    REFLECTION,
    SHARED,
    ANSWER,
    PARTNER_ANSWER,
    SUMMARY,
    COMMENT,
    PULSE_LINE,
    GOAL,
)
LONELY_QUESTION = "How brave did you feel this month?"


@pytest.fixture
def secrets(cohort, mentor, mentee):
    """Maya and Mo, at risk (no meeting for 50 days, and the one they had rated 1 of 5), with
    every kind of private or personal text; beside them, six ordinary pairs."""
    cohort.status = Cohort.Status.ACTIVE
    cohort.starts_on = timezone.localdate() - dt.timedelta(weeks=10)
    cohort.ends_on = cohort.starts_on + dt.timedelta(weeks=26)
    cohort.save()
    grow(cohort, pairs=6)
    pair = RelationshipFactory(
        cohort=cohort,
        mentor=mentor,
        mentee=mentee,
        started_at=timezone.now() - dt.timedelta(days=60),
    )
    mo = pair.members.get(role="mentee")
    maya = pair.members.get(role="mentor")
    check_in = CheckInFactory(
        relationship=pair,
        logged_by=mo,
        met_on=timezone.localdate() - dt.timedelta(days=50),
        summary=SUMMARY,
        next_steps=SUMMARY,
    )
    CheckInCommentFactory(check_in=check_in, author=maya, text=COMMENT)
    PulseFactory(check_in=check_in, author=mo, usefulness=1, line=PULSE_LINE)
    PulseFactory(check_in=check_in, author=maya, usefulness=1, line=PULSE_LINE)
    PrivateNoteFactory(relationship=pair, author=mentee, text=NOTE)
    PrivateNoteFactory(relationship=pair, author=mentee, check_in=check_in, text=CHECK_IN_NOTE)
    ReflectionFactory(relationship=pair, author=mentee, text=REFLECTION)
    ReflectionFactory(relationship=pair, author=mentor, text=SHARED, shared=True)
    GoalFactory(relationship=pair, title=GOAL, measure=GOAL)
    response = SurveyResponseFactory(
        relationship=pair, author=mo, stage=SurveyResponse.Stage.MIDPOINT
    )
    for text, visible_to in (
        (ANSWER, FeedbackQuestion.VisibleTo.COORDINATOR),
        (PARTNER_ANSWER, FeedbackQuestion.VisibleTo.PARTNER),
    ):
        SurveyAnswerFactory(
            response=response,
            question=FeedbackQuestionFactory(
                program=cohort.program,
                text=f"Tell us more ({visible_to})",
                answer_kind=FeedbackQuestion.AnswerKind.TEXT,
                visible_to=visible_to,
            ),
            scale_value=None,
            text_value=text,
        )
    lonely = FeedbackQuestionFactory(program=cohort.program, text=LONELY_QUESTION)
    SurveyAnswerFactory(response=response, question=lonely, scale_value=1)
    return pair


def _pages(pair) -> list[str]:
    cohort, program = pair.cohort, pair.cohort.program
    figures = [*DRILL_FIGURES, "answered-midpoint", f"met-{timezone.localdate():%Y-%m}"]
    figures += [f"goal-{status}" for status in ("not_started", "on_track", "at_risk", "done")]
    pages = [
        reverse("reports:cohort_dashboard", args=[cohort.pk]),
        reverse("reports:cohort_dashboard", args=[cohort.pk]) + "?role=mentee",
        reverse("reports:program_dashboard", args=[program.pk]),
        reverse("reports:organisation_dashboard"),
    ]
    for drill in (
        reverse("reports:cohort_drilldown", args=[cohort.pk]),
        reverse("reports:program_drilldown", args=[program.pk]),
        reverse("reports:organisation_drilldown"),
    ):
        pages += [f"{drill}?figure={figure}" for figure in figures]
    return pages


def _body(response) -> str:
    return unescape(response.content.decode())


@pytest.mark.parametrize("viewer", ["coordinator", "admin_user", "program_creator"])
def test_it_never_shows_what_anyone_wrote(client, request, viewer, secrets):
    client.force_login(request.getfixturevalue(viewer))

    reached = 0
    for url in _pages(secrets):
        response = client.get(url)
        reached += response.status_code == 200
        body = _body(response)
        for marker in MARKERS:
            assert marker not in body, (viewer, url, marker)
        # Maya and Mo's pulses (1 of 5) are two people's answers: never quoted as a figure.
        assert "1.0 out of 5" not in body, (viewer, url)
        assert "1.0 of 5" not in body, (viewer, url)
    assert reached >= (1 if viewer == "program_creator" else 20), viewer


def test_it_shows_the_pairs_reasons_without_their_feedback_score(client, coordinator, secrets):
    client.force_login(coordinator)

    dashboard = _body(client.get(reverse("reports:cohort_dashboard", args=[secrets.cohort_id])))
    drill = _body(
        client.get(
            reverse("reports:cohort_drilldown", args=[secrets.cohort_id]), {"figure": "at_risk"}
        )
    )

    for page in (dashboard, drill):
        assert "Maya Mentor & Mo Mentee" in page or "Maya Mentor" in page
        assert "Recent feedback from the pair is low" in page
        assert "50 days since the last check-in" in page


def test_it_holds_back_an_average_one_person_gave(client, coordinator, secrets):
    client.force_login(coordinator)

    page = _body(client.get(reverse("reports:cohort_dashboard", args=[secrets.cohort_id])))

    row = page[page.index(f"Midpoint: {LONELY_QUESTION}") :][:400]
    assert "shown once 3 people answer (1 so far)" in row


def test_it_keeps_private_text_out_of_the_nudge(
    secrets, coordinator, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.relationship_nudge(relationship=secrets, nudged_by=coordinator)

    assert len(mailoutbox) == 2
    for message in mailoutbox:
        parts = [message.subject, message.body, *(c for c, _ in message.alternatives)]
        for marker in MARKERS:
            assert all(marker not in part for part in parts), (message.to, marker)
        assert "Recent feedback from the pair is low" in message.body
