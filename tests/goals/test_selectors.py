"""Reads inside mentoring relationships: who sees what, the relationship home, health in bulk,
coordinators' feedback aggregates and the calendar feed. The clock is frozen."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from goals import selectors, services
from goals.models import (
    CheckIn,
    CheckInComment,
    CheckInGoalProgress,
    Goal,
    PrivateNote,
    Pulse,
    Reflection,
    SurveyAnswer,
    SurveyResponse,
)
from matching.models import Relationship, RelationshipMember
from matching.selectors import relationship_list_visible_to
from programs.models import Cohort, FeedbackQuestion
from tests.factories import CohortFactory, EnrolmentFactory, RelationshipFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
STARTED_AT = NOW - dt.timedelta(days=60)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def active_cohort(cohort):
    cohort.status = Cohort.Status.ACTIVE
    cohort.starts_on = TODAY - dt.timedelta(days=60)
    cohort.ends_on = TODAY + dt.timedelta(days=120)
    cohort.save()
    return cohort


@pytest.fixture
def relationship(active_cohort, mentor, mentee) -> Relationship:
    """Maya mentors Mo, with a drafted agreement (as the view does before reading the home)."""
    relationship = RelationshipFactory(
        cohort=active_cohort, mentor=mentor, mentee=mentee, started_at=STARTED_AT
    )
    services.agreement_draft(relationship=relationship)
    return relationship


@pytest.fixture
def maya(relationship) -> RelationshipMember:
    return relationship.members.get(role="mentor")


@pytest.fixture
def mo(relationship) -> RelationshipMember:
    return relationship.members.get(role="mentee")


def check_ins_create(relationship, member, count: int, **fields) -> list[CheckIn]:
    return CheckIn.objects.bulk_create(
        CheckIn(
            relationship=relationship,
            logged_by=member,
            met_on=TODAY - dt.timedelta(days=i + 1),
            duration_minutes=30,
            summary=f"Meeting {i}",
            **fields,
        )
        for i in range(count)
    )


# --- Who sees what --------------------------------------------------------------------------


def test_it_shows_a_relationship_to_its_members_and_its_programs_coordinators_only(
    relationship, mentor, mentee, coordinator, other_coordinator, other_program, outsider
):
    someone_elses = RelationshipFactory(cohort=relationship.cohort, started_at=STARTED_AT)
    elsewhere = RelationshipFactory(
        cohort=CohortFactory(program=other_program, status="active"), started_at=STARTED_AT
    )

    def visible(user):
        return set(relationship_list_visible_to(user=user))

    assert visible(mentor) == visible(mentee) == {relationship}
    assert visible(coordinator) == {relationship, someone_elses}
    assert visible(other_coordinator) == {elsewhere}
    assert visible(outsider) == set()


def test_it_lists_the_relationships_a_person_is_in(relationship, mentee, coordinator):
    RelationshipFactory(cohort=relationship.cohort, started_at=STARTED_AT)

    assert list(selectors.relationship_list_for_member(user=mentee)) == [relationship]
    assert list(selectors.relationship_list_for_member(user=coordinator)) == []


def test_it_finds_a_persons_membership(relationship, mentee, mo, coordinator):
    assert selectors.membership_of(user=mentee, relationship=relationship) == mo
    assert selectors.membership_of(user=coordinator, relationship=relationship) is None


# --- The relationship home ------------------------------------------------------------------


def test_it_shows_only_the_viewers_private_notes(relationship, mentor, mentee):
    PrivateNote.objects.create(author=mentee, relationship=relationship, text="Mo's note")
    PrivateNote.objects.create(author=mentor, relationship=relationship, text="Maya's note")

    home = selectors.relationship_home(relationship=relationship, user=mentee)

    assert [n.text for n in home.private_notes] == ["Mo's note"]


def test_it_shows_own_reflections_and_others_shared_ones(relationship, mentor, mentee):
    def reflect(author, text, shared):
        Reflection.objects.create(
            author=author,
            relationship=relationship,
            stage="start",
            prompt="Why?",
            text=text,
            shared=shared,
        )

    reflect(mentee, "Mo private", False)
    reflect(mentee, "Mo shared", True)
    reflect(mentor, "Maya private", False)
    reflect(mentor, "Maya shared", True)

    home = selectors.relationship_home(relationship=relationship, user=mentee)

    assert sorted(r.text for r in home.reflections) == ["Maya shared", "Mo private", "Mo shared"]


def test_it_shows_who_signed_the_current_version(relationship, maya, mo, mentee):
    agreement = relationship.agreement
    services.agreement_sign(agreement=agreement, member=maya, version=1)
    services.agreement_sign(agreement=agreement, member=mo, version=1)
    services.agreement_update(
        agreement=agreement,
        member=maya,
        base_version=1,
        text="New terms.",
        meeting_cadence_days=14,
        meeting_mode="video",
        duration_weeks=26,
    )

    home = selectors.relationship_home(relationship=relationship, user=mentee)

    assert {s.member: s.signed_current for s in home.signatures} == {maya: True, mo: False}
    assert home.everyone_signed is False
    assert home.me == mo


def test_it_pages_the_timeline_twenty_check_ins_at_a_time(relationship, mo, mentee):
    check_ins_create(relationship, mo, 25)

    first = selectors.relationship_home(relationship=relationship, user=mentee)
    second = selectors.relationship_home(relationship=relationship, user=mentee, page=2)

    assert len(first.check_ins) == 20
    assert first.check_ins[0].met_on == TODAY - dt.timedelta(days=1)  # newest first
    assert len(second.check_ins) == 5
    assert first.check_in_total == second.check_in_total == 25


def test_it_shows_the_soonest_future_meeting_as_the_next_one(relationship, mo, mentee):
    for days in (-1, 9, 3):
        check_ins_create(relationship, mo, 1, next_meeting_at=NOW + dt.timedelta(days=days))

    home = selectors.relationship_home(relationship=relationship, user=mentee)

    assert home.next_meeting_at == NOW + dt.timedelta(days=3)


def with_history(relationship, maya, mo, count: int) -> None:
    goal = Goal.objects.create(
        relationship=relationship,
        owner=mo,
        title="Present",
        measure="Once",
        target_date=TODAY + dt.timedelta(days=30),
    )
    goal.milestones.create(title="Draft")
    check_ins = check_ins_create(relationship, mo, count)
    CheckInComment.objects.bulk_create(
        CheckInComment(check_in=c, author=maya, text="Agreed.") for c in check_ins
    )
    CheckInGoalProgress.objects.bulk_create(
        CheckInGoalProgress(check_in=c, goal=goal, progress=10) for c in check_ins
    )
    Pulse.objects.bulk_create(Pulse(check_in=c, author=mo, usefulness=4) for c in check_ins)


def queries_for(call) -> int:
    with CaptureQueriesContext(connection) as context:
        call()
    return len(context.captured_queries)


def test_it_reads_the_home_in_the_same_number_of_queries_however_long_the_history(
    relationship, maya, mo, mentee, active_cohort, mentor
):
    with_history(relationship, maya, mo, 5)
    other = RelationshipFactory(cohort=active_cohort, started_at=STARTED_AT)
    services.agreement_draft(relationship=other)
    other_maya, other_mo = other.members.get(role="mentor"), other.members.get(role="mentee")
    with_history(other, other_maya, other_mo, 100)

    other_mentee = other_mo.enrolment.user

    small = queries_for(lambda: selectors.relationship_home(relationship=relationship, user=mentee))
    large = queries_for(lambda: selectors.relationship_home(relationship=other, user=other_mentee))

    assert small == large
    # 21 until issue 14: the signatures come with the members; the count, next meeting and
    # latest check-in with the page of check-ins; the health from what the home read; the
    # survey answers once.
    assert small == 13


def test_it_judges_the_health_of_many_relationships_in_a_fixed_number_of_queries(
    active_cohort, coordinator
):
    def judge(count: int) -> tuple[int, int]:
        Relationship.objects.all().delete()
        for _ in range(count):
            relationship = RelationshipFactory(cohort=active_cohort, started_at=STARTED_AT)
            mo = relationship.members.get(role="mentee")
            check_ins_create(relationship, mo, 2)
            Goal.objects.create(
                relationship=relationship,
                owner=mo,
                title="Goal",
                measure="Done",
                target_date=TODAY + dt.timedelta(days=30),
            )
        relationships = list(relationship_list_visible_to(user=coordinator))
        result: dict = {}
        queries = queries_for(
            lambda: result.update(selectors.health_for(relationships=relationships))
        )
        return queries, len(result)

    two, ten = judge(2), judge(10)

    assert two[1] == 2
    assert ten[1] == 10
    assert two[0] == ten[0]
    assert two[0] == 5


def test_the_list_and_the_relationship_page_judge_health_as_health_for_does(active_cohort, program):
    """The relationship list reads some of the facts with its page of relationships, and the
    relationship page from what it shows: both must come to the same judgement."""
    scale = FeedbackQuestion.objects.create(
        program=program, text="Useful?", answer_kind="scale", position=0
    )
    lapsed, fine, poorly_rated, new = (
        RelationshipFactory(cohort=active_cohort, started_at=STARTED_AT) for _ in range(4)
    )
    check_ins_create(lapsed, lapsed.members.get(role="mentee"), 1)
    CheckIn.objects.filter(relationship=lapsed).update(met_on=TODAY - dt.timedelta(days=40))
    check_ins_create(fine, fine.members.get(role="mentee"), 2)
    check_ins_create(poorly_rated, poorly_rated.members.get(role="mentee"), 1)
    for role, value in (("mentee", 1), ("mentor", 2)):
        response = SurveyResponse.objects.create(
            relationship=poorly_rated,
            author=poorly_rated.members.get(role=role),
            stage="midpoint",
        )
        SurveyAnswer.objects.create(
            response=response, question=scale, scale_value=value, visible_to="coordinator"
        )
    ids = [lapsed.pk, fine.pk, poorly_rated.pk, new.pk]
    for relationship in Relationship.objects.filter(pk__in=ids):
        services.agreement_draft(relationship=relationship)

    plain = selectors.health_for(relationships=list(Relationship.objects.filter(pk__in=ids)))
    as_listed = selectors.health_for(
        relationships=list(
            Relationship.objects.filter(pk__in=ids)
            .select_related("agreement")
            .annotate(**selectors.health_annotations())
        )
    )
    user = poorly_rated.members.get(role="mentee").enrolment.user
    at_home = selectors.relationship_home(relationship=poorly_rated, user=user).health

    assert as_listed == plain
    assert at_home == plain[poorly_rated.pk]
    assert "recent feedback averages 1.5 out of 5" in plain[poorly_rated.pk].reasons
    assert plain[lapsed.pk].reasons[0].startswith("40 days since the last check-in")


def test_it_judges_a_lapsed_relationship_without_goals_at_risk(relationship, mo):
    check_ins_create(relationship, mo, 1)
    CheckIn.objects.update(met_on=TODAY - dt.timedelta(days=36))

    health = selectors.health_for(relationships=[relationship])[relationship.pk]

    assert health.status == "at_risk"
    assert health.reasons == (
        "36 days since the last check-in; you agreed to meet every 14 days",
        "no goals set yet",
    )


# --- Coordinators' feedback aggregates ------------------------------------------------------


def test_it_hides_feedback_answered_by_fewer_than_three(active_cohort, program):
    scale = FeedbackQuestion.objects.create(
        program=program, text="Useful?", answer_kind="scale", position=0
    )
    text = FeedbackQuestion.objects.create(
        program=program, text="Improve?", answer_kind="text", position=1
    )
    relationships = [
        RelationshipFactory(cohort=active_cohort, started_at=STARTED_AT) for _ in range(2)
    ]

    def answer(relationship, role, value, comment):
        response = SurveyResponse.objects.create(
            relationship=relationship,
            author=relationship.members.get(role=role),
            stage="midpoint",
        )
        SurveyAnswer.objects.create(
            response=response, question=scale, scale_value=value, visible_to="coordinator"
        )
        SurveyAnswer.objects.create(
            response=response, question=text, text_value=comment, visible_to="coordinator"
        )

    answer(relationships[0], "mentee", 2, "More time")
    answer(relationships[0], "mentor", 5, "Fine")

    def aggregates():
        return {
            a.question.text: (a.answered, a.average, a.texts)
            for a in selectors.feedback_aggregates_for_cohort(cohort=active_cohort)
        }

    assert aggregates() == {"Useful?": (2, None, ()), "Improve?": (2, None, ())}

    answer(relationships[1], "mentee", 4, "Clearer goals")

    assert aggregates() == {
        "Useful?": (3, 3.67, ()),
        "Improve?": (3, None, ("Clearer goals", "Fine", "More time")),
    }


# --- Calendar -------------------------------------------------------------------------------


def test_it_lists_only_future_meetings_of_active_relationships_the_person_is_in(
    relationship, mo, mentee, active_cohort
):
    soon, later = NOW + dt.timedelta(days=2), NOW + dt.timedelta(days=9)
    check_ins_create(relationship, mo, 1, next_meeting_at=later)
    check_ins_create(relationship, mo, 1, next_meeting_at=soon)
    check_ins_create(relationship, mo, 1, next_meeting_at=NOW - dt.timedelta(hours=1))
    CheckIn.objects.filter(relationship=relationship).update(summary="Secret: my salary talk")
    ended = RelationshipFactory(cohort=active_cohort, mentee=UserFactory(), started_at=STARTED_AT)
    ended.status = Relationship.Status.ENDED
    ended.save()
    # Mo in an ended relationship of another cohort: its meeting is not in the feed.
    old_cohort = CohortFactory(program=active_cohort.program, status="closed")
    EnrolmentFactory(cohort=old_cohort, user=mentee)
    old = RelationshipFactory(cohort=old_cohort, mentee=mentee, started_at=STARTED_AT)
    old.status = Relationship.Status.ENDED
    old.save()
    check_ins_create(old, old.members.get(role="mentee"), 1, next_meeting_at=soon)
    check_ins_create(ended, ended.members.get(role="mentee"), 1, next_meeting_at=soon)

    events = selectors.calendar_events_for(user=mentee)

    assert [e.starts_at for e in events] == [soon, later]
    assert all("Secret" not in e.summary + e.description for e in events)
    assert events[0].summary == "Mentoring: Leadership Mentoring"
