"""Reads for participants: what their enrolment page says about matching, and the mentor
requests a mentee made or a mentor received."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from accounts.models import User
from matching.models import MentorRequest, Relationship, RelationshipMember
from programs.models import Cohort, Enrolment, EnrolmentCompetency

# Sent and waiting for the mentor's answer (queued ones the mentor has not seen yet).
WAITING_STATUSES = (MentorRequest.Status.PENDING, MentorRequest.Status.QUESTION)
HISTORY_LIMIT = 50
SELF_SERVICE_STATUSES = (Cohort.Status.MATCHING, Cohort.Status.ACTIVE)


class ChoiceBlock(StrEnum):
    """Why a mentee may not choose a mentor now."""

    NOT_APPROVED_MENTEE = "not_approved_mentee"
    PROGRAM_OFF = "program_off"  # the program's coordinators match everyone
    COHORT_CLOSED = "cohort_closed"  # neither matching nor active
    MATCHED = "matched"  # they have an active relationship


def self_service_block(*, cohort: Cohort) -> ChoiceBlock | None:
    """Whether the cohort takes mentor requests at all: None when it does."""
    if not cohort.program.mentees_may_request:
        return ChoiceBlock.PROGRAM_OFF
    if cohort.status not in SELF_SERVICE_STATUSES:
        return ChoiceBlock.COHORT_CLOSED
    return None


def mentor_choice_blocks(
    *, enrolment: Enrolment, matched: bool = False, cohort: Cohort | None = None
) -> set[ChoiceBlock]:
    """Every reason `enrolment` may not choose a mentor now; empty when they may. The one rule
    behind the enrolment page, the recommendations page and `mentor_request_create`; each
    says which reason it reports first.

    `matched`: whether they have an active relationship, which every caller has read already
    (MATCHED is only among the reasons when it says so). `cohort`: a fresher copy than
    `enrolment.cohort`, with its program."""
    cohort = cohort or enrolment.cohort
    blocks = set()
    if enrolment.role != Enrolment.Role.MENTEE or enrolment.status != Enrolment.Status.APPROVED:
        blocks.add(ChoiceBlock.NOT_APPROVED_MENTEE)
    if not cohort.program.mentees_may_request:
        blocks.add(ChoiceBlock.PROGRAM_OFF)
    if cohort.status not in SELF_SERVICE_STATUSES:
        blocks.add(ChoiceBlock.COHORT_CLOSED)
    if matched:
        blocks.add(ChoiceBlock.MATCHED)
    return blocks


@dataclass(frozen=True)
class Partnership:
    """One of the participant's active relationships and the other people in it."""

    relationship: Relationship
    partners: list[RelationshipMember]


@dataclass(frozen=True)
class ParticipationSummary:
    """What the participant's enrolment page says about matching, in a fixed number of
    queries: who they are matched with, whether they may choose a mentor, and, for mentors,
    how many requests wait for their answer."""

    heading: str
    partnerships: list[Partnership]
    can_choose_mentor: bool
    shows_request_inbox: bool
    waiting_requests: int

    @property
    def relationship(self) -> Relationship | None:
        return self.partnerships[0].relationship if self.partnerships else None

    @property
    def members(self) -> list[RelationshipMember]:
        return [member for p in self.partnerships for member in p.partners]


def participation_summary(*, enrolment: Enrolment) -> ParticipationSummary:
    """`enrolment` must come with its cohort and program (as the participant selector gives)."""
    program = enrolment.cohort.program
    memberships = list(
        RelationshipMember.objects.filter(
            enrolment=enrolment, relationship__status=Relationship.Status.ACTIVE
        )
        .select_related("relationship")
        .prefetch_related(
            Prefetch(
                "relationship__members",
                queryset=RelationshipMember.objects.select_related("enrolment__user"),
            )
        )
        .order_by("-relationship__started_at")
    )
    partnerships = [
        Partnership(
            relationship=m.relationship,
            partners=[p for p in m.relationship.members.all() if p.enrolment_id != enrolment.pk],
        )
        for m in memberships
    ]
    approved = enrolment.status == Enrolment.Status.APPROVED
    is_mentor = enrolment.role == Enrolment.Role.MENTOR
    shows_inbox = approved and is_mentor and program.mentees_may_request
    return ParticipationSummary(
        heading=_partners_heading(enrolment, partnerships),
        partnerships=partnerships,
        can_choose_mentor=not mentor_choice_blocks(enrolment=enrolment, matched=bool(partnerships)),
        shows_request_inbox=shows_inbox,
        waiting_requests=(
            enrolment.requests_received.filter(status__in=WAITING_STATUSES).count()
            if shows_inbox
            else 0
        ),
    )


def _partners_heading(enrolment: Enrolment, partnerships: list[Partnership]) -> str:
    if any(p.relationship.kind == Relationship.Kind.CIRCLE for p in partnerships):
        return "Your circle"
    if enrolment.role == Enrolment.Role.MENTEE:
        return "Your mentor"
    if enrolment.role == Enrolment.Role.MENTOR:
        return "Your mentees" if len(partnerships) > 1 else "Your mentee"
    return "Your peer partner"


def mentor_request_list_made_by(*, user: User) -> QuerySet[MentorRequest]:
    """The requests `user` made as a mentee, and nobody else's."""
    return MentorRequest.objects.filter(
        mentee__user=user, mentee__role=Enrolment.Role.MENTEE
    ).select_related("mentor__user")


def mentor_request_list_sent_to(*, user: User) -> QuerySet[MentorRequest]:
    """The requests sent to `user` as a mentor: not those still queued behind a mentee's
    earlier choice, which the mentor never saw."""
    return MentorRequest.objects.filter(
        mentor__user=user, mentor__role=Enrolment.Role.MENTOR, sent_at__isnull=False
    ).select_related("mentee__user", "cohort__program")


@dataclass(frozen=True)
class OpenRequest:
    request: MentorRequest
    develop: list[str]  # what the mentee wants to develop
    days_left: int


@dataclass(frozen=True)
class Inbox:
    open: list[OpenRequest]
    answered: list[MentorRequest]


def mentor_request_inbox_for(*, user: User) -> Inbox:
    """Requests waiting for the mentor's answer, soonest due first, and the latest answered
    ones. Three queries whatever the number of requests."""
    now = timezone.now()
    waiting = (
        mentor_request_list_sent_to(user=user)
        .filter(status__in=WAITING_STATUSES)
        .prefetch_related(
            Prefetch(
                "mentee__competency_links",
                queryset=EnrolmentCompetency.objects.filter(
                    kind=EnrolmentCompetency.Kind.DEVELOP
                ).select_related("competency"),
                to_attr="develop_links",
            )
        )
        .order_by("respond_by", "pk")
    )
    return Inbox(
        open=[
            OpenRequest(
                request=r,
                develop=sorted(
                    (link.competency.name for link in _develop_links(r.mentee)), key=str.lower
                ),
                days_left=max(0, math.ceil((r.respond_by - now).total_seconds() / 86400))
                if r.respond_by
                else 0,
            )
            for r in waiting
        ],
        answered=list(
            mentor_request_list_sent_to(user=user)
            .exclude(status__in=WAITING_STATUSES)
            .order_by("-sent_at", "-pk")[:HISTORY_LIMIT]
        ),
    )


def _develop_links(mentee: Enrolment) -> list[EnrolmentCompetency]:
    # Set by the Prefetch(to_attr="develop_links") above; django-stubs cannot see attributes a
    # prefetch adds at run time.
    links: list[EnrolmentCompetency] = mentee.develop_links  # type: ignore[attr-defined]
    return links


def mentor_request_list_of(*, mentee: Enrolment) -> list[MentorRequest]:
    """Every request the mentee made, by their rank, the latest first for the same rank."""
    return list(mentee.requests_made.select_related("mentor__user").order_by("rank", "-pk"))


def mentor_request_list_open_of(*, mentee: Enrolment) -> list[MentorRequest]:
    """The mentee's requests still open: sent and waiting, or queued behind one."""
    return list(
        mentee.requests_made.filter(status__in=MentorRequest.OPEN_STATUSES).select_related(
            "mentor__user"
        )
    )
