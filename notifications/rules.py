"""Reminder rules: which reminders are due, for whom, and for which period.

Pure (no Django, no import of our apps), like `matching.engine` and `goals.health`: the loader in
`goals.reminders` gathers the facts into plain dataclasses, `reminders_due` judges them, and
`goals.reminder_sweep` records each answer with `notify()`. Tests feed it plain data.

Every reminder carries a `period`. With its kind, what it is about and its recipient it makes
the notification's unique key, so a sweep that runs twice (or two at once) reminds once, and a
reminder comes back only when its period changes:

  check-in due          relationship, "w<n>": n = the cadence window (since the start) in which
                        the meeting fell due; a new check-in moves the due date, so a new window
  check-in overdue      relationship, "w<n>": n = today's cadence window; again once per cadence
                        while nobody logs a meeting
  check-in to confirm   the check-in, once
  meetings to rate      relationship, "c<id>": the newest unrated check-in
  agreement unsigned    relationship, "v<version>": signing the next version is asked again
  goal due soon/overdue the goal, "soon-<target date>" / "overdue-<target date>": moving the
                        target date asks again
  survey open/unanswered relationship, the stage ("midpoint", "final")
  request unanswered    the mentor request, once
  invitation unaccepted the invitation, once
  relationship at risk  relationship, the ISO week ("2026-W10"): the coordinator hears again
                        each week it stays at risk

Dates are the recipient's own: "today" for someone in UTC+14 is already tomorrow in London.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# The kinds (values of notifications.models.Notification.Kind; kept as strings to stay pure).
CHECK_IN_DUE = "check-in-due"
CHECK_IN_OVERDUE = "check-in-overdue"
CHECK_IN_TO_CONFIRM = "check-in-to-confirm"
MEETINGS_TO_RATE = "meetings-to-rate"
AGREEMENT_UNSIGNED = "agreement-unsigned"
GOAL_DUE_SOON = "goal-due-soon"
GOAL_OVERDUE = "goal-overdue"
SURVEY_OPEN = "survey-open"
SURVEY_UNANSWERED = "survey-unanswered"
REQUEST_UNANSWERED = "request-unanswered"
INVITATION_UNACCEPTED = "invitation-unaccepted"
RELATIONSHIP_AT_RISK = "relationship-at-risk"

# What a reminder is about: (model label, pk), as `notify(about=...)` names it.
RELATIONSHIP = "matching.relationship"
CHECK_IN = "goals.checkin"
GOAL = "goals.goal"
MENTOR_REQUEST = "matching.mentorrequest"
INVITATION = "programs.invitation"

CLOSED_GOAL_STATUSES = frozenset({"done", "dropped"})
AT_RISK = "at_risk"  # goals.health.AT_RISK
RATE_WINDOW_DAYS = 31  # meetings older than this are not worth a rating reminder


@dataclass(frozen=True)
class Thresholds:
    """A program's reminder settings (programs.Program.reminder_*); these are the defaults."""

    check_in_grace_days: int = 7  # a due check-in is overdue this many days later
    confirm_after_days: int = 2  # a logged meeting waits this long for confirmation and rating
    agreement_unsigned_days: int = 7  # after the start
    goal_due_soon_days: int = 7  # before the target date
    survey_unanswered_days: int = 7  # after the survey opened
    request_unanswered_days: int = 3  # after the request reached the mentor
    invitation_unaccepted_days: int = 5  # after it was sent
    survey_response_percent: int = 60  # the coordinator digest flags cohorts below this


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    time_zone: str = "UTC"


@dataclass(frozen=True)
class Member:
    id: int  # RelationshipMember pk
    person_id: int
    role: str
    signed_agreement: bool = False  # the current version
    surveys_done: frozenset[str] = frozenset()  # stages answered


@dataclass(frozen=True)
class CheckInFacts:
    id: int
    logged_by: int  # member id
    met_on: dt.date
    logged_at: dt.datetime
    confirmed: bool = False
    rated_by: frozenset[int] = frozenset()  # member ids who gave a pulse


@dataclass(frozen=True)
class GoalFacts:
    id: int
    owner: int  # member id
    title: str
    status: str
    target_date: dt.date


@dataclass(frozen=True)
class RelationshipFacts:
    id: int
    program_id: int
    program_name: str
    started_at: dt.datetime
    cadence_days: int
    members: tuple[Member, ...]
    coordinator_ids: tuple[int, ...] = ()
    last_check_in_on: dt.date | None = None
    next_meeting_at: dt.datetime | None = None  # the soonest meeting booked ahead
    # Recent and unconfirmed check-ins (the loader leaves older confirmed ones out).
    check_ins: tuple[CheckInFacts, ...] = ()
    agreement_version: int = 1
    goals: tuple[GoalFacts, ...] = ()
    # Stages open now (as goals.services.survey_stage_open decides) and the day each opened.
    surveys_opened_on: Mapping[str, dt.date] = field(default_factory=dict)
    health_status: str = "on_track"
    health_reasons: tuple[str, ...] = ()
    # An ended relationship is loaded for its final survey only.
    active: bool = True


@dataclass(frozen=True)
class RequestFacts:
    """A mentee's request waiting for the mentor's answer."""

    id: int
    program_id: int
    mentor_id: int  # person
    mentee_name: str
    sent_at: dt.datetime


@dataclass(frozen=True)
class InvitationFacts:
    """An invitation neither accepted nor expired."""

    id: int
    program_id: int
    email: str
    program_name: str
    cohort_name: str
    token: str
    created_at: dt.datetime
    expires_at: dt.datetime


@dataclass(frozen=True)
class Snapshot:
    people: Mapping[int, Person]
    relationships: tuple[RelationshipFacts, ...] = ()
    requests: tuple[RequestFacts, ...] = ()
    invitations: tuple[InvitationFacts, ...] = ()


@dataclass(frozen=True)
class DueReminder:
    kind: str
    recipient_id: int | None  # a person; None for an address with no account (`email`)
    about: tuple[str, int]  # (model label, pk)
    period: str = ""
    context: Mapping[str, Any] = field(default_factory=dict)
    # The page to act on, as a URL name and its arguments (the sweep reverses it).
    link: tuple[str, tuple[Any, ...]] = ("", ())
    email: str = ""
    urgent: bool = False  # email now rather than in the next daily email


# --- Helpers --------------------------------------------------------------------------------


def zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


# Remembered: a sweep asks for "today" in the same dozen zones at the same moment a million times.
@functools.lru_cache(maxsize=4096)
def local_date(moment: dt.datetime, time_zone: str) -> dt.date:
    return moment.astimezone(zone(time_zone)).date()


def _today(people: Mapping[int, Person], person_id: int, now: dt.datetime) -> dt.date:
    person = people.get(person_id)
    return local_date(now, person.time_zone if person else "UTC")


def _partners(rel: RelationshipFacts, member: Member, people: Mapping[int, Person]) -> str:
    names = [
        people[m.person_id].name for m in rel.members if m.id != member.id and m.person_id in people
    ]
    return ", ".join(names)


def _base(rel: RelationshipFacts, member: Member, people: Mapping[int, Person]) -> dict[str, Any]:
    return {
        "relationship_id": rel.id,
        "program_name": rel.program_name,
        "partners": _partners(rel, member, people),
    }


# --- Rules, one per kind of reminder ----------------------------------------------------------


def check_ins_due(
    rel: RelationshipFacts, people: Mapping[int, Person], now: dt.datetime, t: Thresholds
) -> Iterator[DueReminder]:
    """Every member: a meeting is due `cadence` days after the last one (or the start), and
    overdue `grace` days after that. Nothing is "due" while a meeting is booked ahead."""
    cadence = max(rel.cadence_days, 1)
    for member in rel.members:
        today = _today(people, member.person_id, now)
        start = local_date(rel.started_at, people[member.person_id].time_zone)
        last = max(rel.last_check_in_on or start, start)
        due_on = last + dt.timedelta(days=cadence)
        if today < due_on:
            continue
        overdue_on = due_on + dt.timedelta(days=t.check_in_grace_days)
        context = {
            **_base(rel, member, people),
            "due_on": due_on,
            "last_check_in_on": rel.last_check_in_on,
            "cadence_days": cadence,
        }
        if today >= overdue_on:
            yield DueReminder(
                kind=CHECK_IN_OVERDUE,
                recipient_id=member.person_id,
                about=(RELATIONSHIP, rel.id),
                period=f"w{(today - start).days // cadence}",
                context={**context, "days_since": (today - last).days},
                link=("goals:check_in_create", (rel.id,)),
            )
        elif rel.next_meeting_at is None or rel.next_meeting_at <= now:
            yield DueReminder(
                kind=CHECK_IN_DUE,
                recipient_id=member.person_id,
                about=(RELATIONSHIP, rel.id),
                period=f"w{(due_on - start).days // cadence}",
                context=context,
                link=("goals:check_in_create", (rel.id,)),
            )


def check_ins_to_confirm(
    rel: RelationshipFacts, people: Mapping[int, Person], now: dt.datetime, t: Thresholds
) -> Iterator[DueReminder]:
    """The other members, once, when a meeting a partner logged is still unconfirmed."""
    wait = dt.timedelta(days=t.confirm_after_days)
    for check_in in rel.check_ins:
        if check_in.confirmed or now - check_in.logged_at < wait:
            continue
        logger = next((m for m in rel.members if m.id == check_in.logged_by), None)
        for member in rel.members:
            if member.id == check_in.logged_by:
                continue
            yield DueReminder(
                kind=CHECK_IN_TO_CONFIRM,
                recipient_id=member.person_id,
                about=(CHECK_IN, check_in.id),
                context={
                    **_base(rel, member, people),
                    "met_on": check_in.met_on,
                    "logged_by": people[logger.person_id].name
                    if logger and logger.person_id in people
                    else "",
                },
                link=("goals:relationship_home", (rel.id,)),
            )


def meetings_to_rate(
    rel: RelationshipFacts, people: Mapping[int, Person], now: dt.datetime, t: Thresholds
) -> Iterator[DueReminder]:
    """Each member with recent meetings a partner logged that they have not rated: one
    reminder for them all, again only when a newer one joins the list."""
    wait = dt.timedelta(days=t.confirm_after_days)
    for member in rel.members:
        today = _today(people, member.person_id, now)
        unrated = [
            c
            for c in rel.check_ins
            if c.logged_by != member.id
            and member.id not in c.rated_by
            and now - c.logged_at >= wait
            and (today - c.met_on).days <= RATE_WINDOW_DAYS
        ]
        if not unrated:
            continue
        newest = max(unrated, key=lambda c: (c.met_on, c.id))
        yield DueReminder(
            kind=MEETINGS_TO_RATE,
            recipient_id=member.person_id,
            about=(RELATIONSHIP, rel.id),
            period=f"c{max(c.id for c in unrated)}",
            context={
                **_base(rel, member, people),
                "count": len(unrated),
                "newest_met_on": newest.met_on,
            },
            link=("goals:relationship_home", (rel.id,)),
        )


def agreement_unsigned(
    rel: RelationshipFacts, people: Mapping[int, Person], now: dt.datetime, t: Thresholds
) -> Iterator[DueReminder]:
    """Each member who has not signed the current agreement `agreement_unsigned_days` after
    the start."""
    for member in rel.members:
        if member.signed_agreement:
            continue
        person = people[member.person_id]
        today = local_date(now, person.time_zone)
        start = local_date(rel.started_at, person.time_zone)
        if (today - start).days < t.agreement_unsigned_days:
            continue
        yield DueReminder(
            kind=AGREEMENT_UNSIGNED,
            recipient_id=member.person_id,
            about=(RELATIONSHIP, rel.id),
            period=f"v{rel.agreement_version}",
            context={**_base(rel, member, people), "started_on": start},
            link=("goals:agreement_edit", (rel.id,)),
        )


def goals_due(
    rel: RelationshipFacts, people: Mapping[int, Person], now: dt.datetime, t: Thresholds
) -> Iterator[DueReminder]:
    """The goal's owner: its target date is within `goal_due_soon_days`, or passed while the
    goal is still open."""
    owners = {m.id: m for m in rel.members}
    for goal in rel.goals:
        owner = owners.get(goal.owner)
        if goal.status in CLOSED_GOAL_STATUSES or owner is None:
            continue
        today = _today(people, owner.person_id, now)
        days_left = (goal.target_date - today).days
        context = {
            **_base(rel, owner, people),
            "goal_title": goal.title,
            "target_date": goal.target_date,
            "days_left": days_left,
        }
        link = ("goals:goal_edit", (goal.id,))
        if days_left < 0:
            yield DueReminder(
                kind=GOAL_OVERDUE,
                recipient_id=owner.person_id,
                about=(GOAL, goal.id),
                period=f"overdue-{goal.target_date.isoformat()}",
                context={**context, "days_late": -days_left},
                link=link,
            )
        elif days_left <= t.goal_due_soon_days:
            yield DueReminder(
                kind=GOAL_DUE_SOON,
                recipient_id=owner.person_id,
                about=(GOAL, goal.id),
                period=f"soon-{goal.target_date.isoformat()}",
                context=context,
                link=link,
            )


def surveys_due(
    rel: RelationshipFacts, people: Mapping[int, Person], now: dt.datetime, t: Thresholds
) -> Iterator[DueReminder]:
    """Each member who has not answered an open survey: when it opens, and once more
    `survey_unanswered_days` later (only the later one when both apply)."""
    for stage, opened_on in sorted(rel.surveys_opened_on.items()):
        for member in rel.members:
            if stage in member.surveys_done:
                continue
            today = _today(people, member.person_id, now)
            late = (today - opened_on).days >= t.survey_unanswered_days
            yield DueReminder(
                kind=SURVEY_UNANSWERED if late else SURVEY_OPEN,
                recipient_id=member.person_id,
                about=(RELATIONSHIP, rel.id),
                period=stage,
                context={**_base(rel, member, people), "stage": stage, "opened_on": opened_on},
                link=("goals:survey", (rel.id, stage)),
            )


def relationship_at_risk(
    rel: RelationshipFacts, people: Mapping[int, Person], now: dt.datetime, t: Thresholds
) -> Iterator[DueReminder]:
    """The program's coordinators, once a week while the relationship is at risk, with why."""
    if rel.health_status != AT_RISK:
        return
    year, week, _ = now.astimezone(dt.UTC).isocalendar()
    names = [people[m.person_id].name for m in rel.members if m.person_id in people]
    for coordinator_id in rel.coordinator_ids:
        yield DueReminder(
            kind=RELATIONSHIP_AT_RISK,
            recipient_id=coordinator_id,
            about=(RELATIONSHIP, rel.id),
            period=f"{year}-W{week:02d}",
            context={
                "relationship_id": rel.id,
                "program_name": rel.program_name,
                "members": ", ".join(names),
                "reasons": list(rel.health_reasons),
            },
            link=("goals:relationship_home", (rel.id,)),
            urgent=True,
        )


def request_unanswered(
    request: RequestFacts, people: Mapping[int, Person], now: dt.datetime, t: Thresholds
) -> Iterator[DueReminder]:
    """The mentor, once, when a mentee's request waits `request_unanswered_days`."""
    if now - request.sent_at < dt.timedelta(days=t.request_unanswered_days):
        return
    yield DueReminder(
        kind=REQUEST_UNANSWERED,
        recipient_id=request.mentor_id,
        about=(MENTOR_REQUEST, request.id),
        context={"mentee_name": request.mentee_name, "sent_at": request.sent_at},
        link=("matching:request_inbox", ()),
    )


def invitation_unaccepted(
    invitation: InvitationFacts, now: dt.datetime, t: Thresholds
) -> Iterator[DueReminder]:
    """The invited address, once, `invitation_unaccepted_days` after the invitation, while it
    can still be used."""
    if invitation.expires_at <= now:
        return
    if now - invitation.created_at < dt.timedelta(days=t.invitation_unaccepted_days):
        return
    yield DueReminder(
        kind=INVITATION_UNACCEPTED,
        recipient_id=None,
        email=invitation.email,
        about=(INVITATION, invitation.id),
        context={
            "program_name": invitation.program_name,
            "cohort_name": invitation.cohort_name,
            "expires_at": invitation.expires_at,
        },
        link=("programs:invitation_accept", (invitation.token,)),
        # An address with no account has no time zone and no daily email: it goes now.
        urgent=True,
    )


RELATIONSHIP_RULES = (
    check_ins_due,
    check_ins_to_confirm,
    meetings_to_rate,
    agreement_unsigned,
    goals_due,
    surveys_due,
    relationship_at_risk,
)
ENDED_RELATIONSHIP_RULES = (surveys_due,)


def reminders_due(
    snapshot: Snapshot,
    now: dt.datetime,
    thresholds: Mapping[int, Thresholds] | None = None,
) -> list[DueReminder]:
    """Every reminder due at `now` (aware). `thresholds` are by program id; a program without
    an entry gets DEFAULT_THRESHOLDS."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    by_program = thresholds or {}
    people = snapshot.people
    due: list[DueReminder] = []
    for rel in snapshot.relationships:
        t = by_program.get(rel.program_id, DEFAULT_THRESHOLDS)
        for rule in RELATIONSHIP_RULES if rel.active else ENDED_RELATIONSHIP_RULES:
            due.extend(rule(rel, people, now, t))
    for request in snapshot.requests:
        due.extend(
            request_unanswered(
                request, people, now, by_program.get(request.program_id, DEFAULT_THRESHOLDS)
            )
        )
    for invitation in snapshot.invitations:
        due.extend(
            invitation_unaccepted(
                invitation, now, by_program.get(invitation.program_id, DEFAULT_THRESHOLDS)
            )
        )
    return due
