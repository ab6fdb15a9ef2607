"""The reminder rules over plain data: no database, no Django.

Two people at the ends of the world's clocks share most relationships here: Kiri in UTC+14
(Pacific/Kiritimati) and Baker in UTC-12 (Etc/GMT+12). At NOW, Monday 2 March 2026 12:00 UTC,
Kiri's calendar already shows Tuesday 3 March, Baker's still Monday 2 March.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from notifications import rules
from notifications.rules import (
    CheckInFacts,
    GoalFacts,
    InvitationFacts,
    Member,
    Person,
    RelationshipFacts,
    RequestFacts,
    Snapshot,
    Thresholds,
    reminders_due,
)

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
KIRI, BAKER, CORA = 1, 2, 3
KIRI_MEMBER, BAKER_MEMBER = 10, 11
PEOPLE = {
    KIRI: Person(KIRI, "Kiri Mentee", "Pacific/Kiritimati"),
    BAKER: Person(BAKER, "Baker Mentor", "Etc/GMT+12"),
    CORA: Person(CORA, "Cora Coordinator", "Europe/London"),
}
PROGRAM = 7


def relationship(**overrides: object) -> RelationshipFacts:
    """A pair that started on 1 February, met recently, signed, with nothing due."""
    base = RelationshipFacts(
        id=100,
        program_id=PROGRAM,
        program_name="Leadership",
        started_at=dt.datetime(2026, 2, 1, 12, 0, tzinfo=UTC),
        cadence_days=14,
        members=(
            Member(KIRI_MEMBER, KIRI, "mentee", signed_agreement=True),
            Member(BAKER_MEMBER, BAKER, "mentor", signed_agreement=True),
        ),
        coordinator_ids=(CORA,),
        last_check_in_on=dt.date(2026, 2, 27),
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def due(*relationships: RelationshipFacts, **snapshot: object) -> list[rules.DueReminder]:
    return reminders_due(
        Snapshot(people=PEOPLE, relationships=relationships, **snapshot),  # type: ignore[arg-type]
        NOW,
    )


def summary(reminders: list[rules.DueReminder]) -> set[tuple[str, int | None, str]]:
    return {(r.kind, r.recipient_id, r.period) for r in reminders}


def test_it_reminds_nobody_when_all_is_well() -> None:
    assert due(relationship()) == []


def test_it_finds_a_check_in_due_by_each_members_own_calendar() -> None:
    # Due on 3 March: Kiri's today, Baker's tomorrow.
    found = due(relationship(last_check_in_on=dt.date(2026, 2, 17)))
    # Kiri's start is 2 February on her calendar: 29 days, the second 14-day window.
    assert summary(found) == {(rules.CHECK_IN_DUE, KIRI, "w2")}
    assert found[0].about == (rules.RELATIONSHIP, 100)
    assert found[0].context["due_on"] == dt.date(2026, 3, 3)
    assert found[0].context["partners"] == "Baker Mentor"
    assert found[0].link == ("goals:check_in_create", (100,))
    assert not found[0].urgent


def test_it_finds_a_check_in_overdue_for_one_and_due_for_the_other() -> None:
    # Due 24 February, overdue a week later, on 3 March: Kiri's today, not yet Baker's.
    found = due(relationship(last_check_in_on=dt.date(2026, 2, 10)))
    assert summary(found) == {
        (rules.CHECK_IN_OVERDUE, KIRI, "w2"),
        (rules.CHECK_IN_DUE, BAKER, "w1"),
    }


def test_it_counts_from_the_start_when_nobody_met_yet() -> None:
    found = due(relationship(last_check_in_on=None, started_at=NOW - dt.timedelta(days=15)))
    assert {(r.kind, r.recipient_id) for r in found} == {
        (rules.CHECK_IN_DUE, KIRI),
        (rules.CHECK_IN_DUE, BAKER),
    }
    assert {r.period for r in found} == {"w1"}


def test_a_meeting_booked_ahead_stops_the_due_reminder_but_not_the_overdue_one() -> None:
    booked = NOW + dt.timedelta(days=2)
    assert due(relationship(last_check_in_on=dt.date(2026, 2, 17), next_meeting_at=booked)) == []
    found = due(relationship(last_check_in_on=dt.date(2026, 2, 1), next_meeting_at=booked))
    assert {r.kind for r in found} == {rules.CHECK_IN_OVERDUE}


def test_a_longer_grace_keeps_an_overdue_check_in_merely_due() -> None:
    snapshot = Snapshot(
        people=PEOPLE, relationships=(relationship(last_check_in_on=dt.date(2026, 2, 10)),)
    )
    found = reminders_due(snapshot, NOW, {PROGRAM: Thresholds(check_in_grace_days=30)})
    assert {r.kind for r in found} == {rules.CHECK_IN_DUE}


def test_it_asks_the_partner_to_confirm_a_meeting_once_it_waited() -> None:
    check_in = CheckInFacts(
        id=500,
        logged_by=KIRI_MEMBER,
        met_on=dt.date(2026, 2, 27),
        logged_at=NOW - dt.timedelta(days=3),
        rated_by=frozenset({BAKER_MEMBER}),
    )
    found = due(relationship(check_ins=(check_in,)))
    assert summary(found) == {(rules.CHECK_IN_TO_CONFIRM, BAKER, "")}
    assert found[0].about == (rules.CHECK_IN, 500)
    assert found[0].context["logged_by"] == "Kiri Mentee"

    fresh = replace(check_in, logged_at=NOW - dt.timedelta(hours=20))
    assert due(relationship(check_ins=(fresh,))) == []
    confirmed = replace(check_in, confirmed=True)
    assert due(relationship(check_ins=(confirmed,))) == []


def test_it_asks_for_ratings_of_meetings_a_partner_logged() -> None:
    older = CheckInFacts(
        id=501,
        logged_by=BAKER_MEMBER,
        met_on=dt.date(2026, 2, 13),
        logged_at=NOW - dt.timedelta(days=17),
        confirmed=True,
    )
    newer = replace(older, id=502, met_on=dt.date(2026, 2, 27), logged_at=NOW - dt.timedelta(3))
    found = due(relationship(check_ins=(older, newer)))
    assert summary(found) == {(rules.MEETINGS_TO_RATE, KIRI, "c502")}
    assert found[0].context["count"] == 2
    rated = replace(newer, rated_by=frozenset({KIRI_MEMBER}))
    assert summary(due(relationship(check_ins=(older, rated)))) == {
        (rules.MEETINGS_TO_RATE, KIRI, "c501")
    }
    # A month-old meeting is history.
    ancient = replace(older, met_on=dt.date(2026, 1, 20))
    assert due(relationship(check_ins=(ancient,))) == []


def test_it_reminds_those_who_have_not_signed_the_current_agreement() -> None:
    members = (
        Member(KIRI_MEMBER, KIRI, "mentee", signed_agreement=False),
        Member(BAKER_MEMBER, BAKER, "mentor", signed_agreement=True),
    )
    found = due(relationship(members=members, agreement_version=2))
    assert summary(found) == {(rules.AGREEMENT_UNSIGNED, KIRI, "v2")}
    assert found[0].link == ("goals:agreement_edit", (100,))
    # Six days in on Kiri's calendar (started 24 Feb there) is too early.
    early = relationship(members=members, started_at=dt.datetime(2026, 2, 25, 2, tzinfo=UTC))
    assert due(early) == []


def test_a_goal_is_overdue_in_kiritimati_while_due_today_in_baker_island() -> None:
    target = dt.date(2026, 3, 2)
    goals = (
        GoalFacts(900, KIRI_MEMBER, "Lead a workshop", "on_track", target),
        GoalFacts(901, BAKER_MEMBER, "Write the guide", "not_started", target),
        GoalFacts(902, KIRI_MEMBER, "Finished one", "done", target),
    )
    found = due(relationship(goals=goals))
    assert summary(found) == {
        (rules.GOAL_OVERDUE, KIRI, "overdue-2026-03-02"),
        (rules.GOAL_DUE_SOON, BAKER, "soon-2026-03-02"),
    }
    by_kind = {r.kind: r for r in found}
    assert by_kind[rules.GOAL_OVERDUE].about == (rules.GOAL, 900)
    assert by_kind[rules.GOAL_OVERDUE].context["days_late"] == 1
    assert by_kind[rules.GOAL_DUE_SOON].context["days_left"] == 0
    assert by_kind[rules.GOAL_DUE_SOON].link == ("goals:goal_edit", (901,))


def test_a_goal_due_soon_follows_the_programs_threshold() -> None:
    goal = GoalFacts(900, KIRI_MEMBER, "Lead a workshop", "on_track", dt.date(2026, 3, 8))
    snapshot = Snapshot(people=PEOPLE, relationships=(relationship(goals=(goal,)),))
    assert {r.kind for r in reminders_due(snapshot, NOW)} == {rules.GOAL_DUE_SOON}
    assert reminders_due(snapshot, NOW, {PROGRAM: Thresholds(goal_due_soon_days=3)}) == []


def test_surveys_are_announced_then_reminded_to_who_has_not_answered() -> None:
    members = (
        Member(KIRI_MEMBER, KIRI, "mentee", signed_agreement=True),
        Member(BAKER_MEMBER, BAKER, "mentor", True, surveys_done=frozenset({"midpoint"})),
    )
    opened_today = relationship(members=members, surveys_opened_on={"midpoint": NOW.date()})
    found = due(opened_today)
    assert summary(found) == {(rules.SURVEY_OPEN, KIRI, "midpoint")}
    assert found[0].link == ("goals:survey", (100, "midpoint"))
    # Opened on 24 February: seven days ago on Kiri's calendar (six on Baker's).
    week_old = replace(opened_today, surveys_opened_on={"midpoint": dt.date(2026, 2, 24)})
    assert summary(due(week_old)) == {(rules.SURVEY_UNANSWERED, KIRI, "midpoint")}


def test_an_ended_relationship_gets_its_final_survey_and_nothing_else() -> None:
    ended = relationship(
        active=False,
        last_check_in_on=dt.date(2026, 1, 1),
        surveys_opened_on={"final": dt.date(2026, 3, 1)},
        health_status="at_risk",
    )
    assert {(r.kind, r.period) for r in due(ended)} == {(rules.SURVEY_OPEN, "final")}


def test_the_coordinator_hears_of_a_relationship_at_risk_with_why_once_a_week() -> None:
    found = due(relationship(health_status="at_risk", health_reasons=("40 days since",)))
    assert summary(found) == {(rules.RELATIONSHIP_AT_RISK, CORA, "2026-W10")}
    assert found[0].urgent
    assert found[0].context["reasons"] == ["40 days since"]
    assert found[0].context["members"] == "Kiri Mentee, Baker Mentor"
    assert due(relationship(health_status="needs_attention")) == []


def test_it_reminds_a_mentor_of_a_request_left_unanswered() -> None:
    request = RequestFacts(
        id=300, program_id=PROGRAM, mentor_id=BAKER, mentee_name="Kiri Mentee", sent_at=NOW
    )
    assert due(requests=(replace(request, sent_at=NOW - dt.timedelta(days=2)),)) == []
    found = due(requests=(replace(request, sent_at=NOW - dt.timedelta(days=3)),))
    assert summary(found) == {(rules.REQUEST_UNANSWERED, BAKER, "")}
    assert found[0].about == (rules.MENTOR_REQUEST, 300)


def test_it_reminds_an_invited_address_while_the_invitation_still_works() -> None:
    invitation = InvitationFacts(
        id=400,
        program_id=PROGRAM,
        email="new.person@example.org",
        program_name="Leadership",
        cohort_name="Spring",
        token="tok",
        created_at=NOW - dt.timedelta(days=6),
        expires_at=NOW + dt.timedelta(days=8),
    )
    found = due(invitations=(invitation,))
    assert [(r.kind, r.recipient_id, r.email) for r in found] == [
        (rules.INVITATION_UNACCEPTED, None, "new.person@example.org")
    ]
    assert found[0].link == ("programs:invitation_accept", ("tok",))
    assert found[0].urgent
    assert due(invitations=(replace(invitation, created_at=NOW - dt.timedelta(days=4)),)) == []
    assert due(invitations=(replace(invitation, expires_at=NOW),)) == []


def test_it_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        reminders_due(Snapshot(people={}), NOW.replace(tzinfo=None))


def test_an_unknown_time_zone_reads_as_utc() -> None:
    assert rules.local_date(NOW, "Mars/Olympus") == NOW.date()


def test_the_rules_import_without_django() -> None:
    code = "import sys, notifications.rules; assert 'django' not in sys.modules, sys.modules"
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)
