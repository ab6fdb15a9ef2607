"""Cohorts full of activity for the dashboard tests, built from the factories.

`grow(cohort, pairs=n)` adds n active pairs to a cohort, each with an agreement both signed,
a goal, a check-in last week with a pulse, and a midpoint survey answer from the mentee; every
third pair is at risk instead (started two months ago, no check-in, no goal) and every mentor
is in Engineering, every mentee in Sales. The dashboards' query counts are pinned over cohorts
grown to two sizes."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from matching.models import Relationship
from programs.models import Cohort, FeedbackQuestion
from tests.factories import (
    AgreementFactory,
    AgreementSignatureFactory,
    CheckInFactory,
    FeedbackQuestionFactory,
    GoalFactory,
    ProfileFactory,
    PulseFactory,
    RelationshipFactory,
    SurveyAnswerFactory,
    SurveyResponseFactory,
    UserFactory,
)

MENTOR_DEPARTMENT = "Engineering"
MENTEE_DEPARTMENT = "Sales"


def question_for(
    cohort: Cohort, text: str = "How useful have your meetings been?"
) -> FeedbackQuestion:
    found = cohort.program.questions.filter(text=text).first()
    return found or FeedbackQuestionFactory(program=cohort.program, text=text)


def person(name: str, department: str, level: int) -> object:
    user = UserFactory(display_name=name)
    ProfileFactory(user=user, department=department, job_level=level)
    return user


def grow(cohort: Cohort, *, pairs: int, start: int = 0) -> list[Relationship]:
    """`pairs` more relationships in `cohort` (see the module's docstring)."""
    question = question_for(cohort)
    recommend = question_for(cohort, "How likely are you to recommend the program to a colleague?")
    made = []
    for n in range(start, start + pairs):
        at_risk = n % 3 == 2
        relationship = RelationshipFactory(
            cohort=cohort,
            mentor=person(f"Mentor {n}", MENTOR_DEPARTMENT, 6),
            mentee=person(f"Mentee {n}", MENTEE_DEPARTMENT, 2),
            started_at=timezone.now() - dt.timedelta(days=60 if at_risk else 30),
        )
        agreement = AgreementFactory(relationship=relationship)
        mentee = relationship.members.get(role="mentee")
        mentor = relationship.members.get(role="mentor")
        AgreementSignatureFactory(agreement=agreement, member=mentee)
        if not at_risk:
            AgreementSignatureFactory(agreement=agreement, member=mentor)
            GoalFactory(relationship=relationship, progress=40, status="on_track")
            check_in = CheckInFactory(relationship=relationship)
            PulseFactory(check_in=check_in, usefulness=4)
            response = SurveyResponseFactory(relationship=relationship, author=mentee)
            SurveyAnswerFactory(response=response, question=question, scale_value=4)
            SurveyAnswerFactory(response=response, question=recommend, scale_value=5)
        made.append(relationship)
    return made
