"""Relationships outside a run: started by hand (a self-service acceptance, a rematch),
announced, ended early, or closed with their outcome."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from matching import selectors
from matching.engine import Pair, scoring
from matching.engine.explain import pair_explanation
from matching.models import Relationship, RelationshipMember
from notifications.models import Notification

# Named apart from relationship_create's `notify` flag, which it would otherwise shadow.
from notifications.services import notify as notify_person
from programs.models import Cohort, Enrolment

from .messages import (
    ALREADY_MATCHED,
    END_NEEDS_REASON,
    MENTOR_FULL,
    RELATIONSHIP_ALREADY_ENDED,
    SWAP_BREAKS_RULE,
)
from .places import enrolments_lock, mentor_has_place, pair_problem, requests_close_for


def relationship_notify_start(*, relationship: Relationship) -> None:
    """Tell every member who their partners are (emailed after commit; once per relationship
    and member, however often this is called)."""
    members = list(relationship.members.select_related("enrolment__user"))
    url = reverse("goals:relationship_home", args=[relationship.pk])
    for member in members:
        notify_person(
            kind=Notification.Kind.MATCH_PUBLISHED,
            recipient=member.enrolment.user,
            about=relationship,
            context={
                "relationship": relationship,
                "member": member,
                "partners": [m for m in members if m.pk != member.pk],
                "cohort": relationship.cohort,
                "program": relationship.cohort.program,
            },
            url=url,
        )


def _relationship_notify_end(
    kind: Notification.Kind, *, relationship: Relationship, context: dict[str, object]
) -> None:
    """Tell every member the relationship ended (once: it ends once) and ask for feedback."""
    url = reverse("goals:relationship_home", args=[relationship.pk])
    for member in relationship.members.select_related("enrolment__user"):
        notify_person(
            kind=kind,
            recipient=member.enrolment.user,
            about=relationship,
            context={"relationship": relationship, **context},
            url=url,
        )


@transaction.atomic
def relationship_create(
    *,
    cohort: Cohort,
    mentor: Enrolment,
    mentee: Enrolment,
    replaces: Relationship | None = None,
    notify: bool = True,
) -> Relationship:
    """Start a pair outside a run: a self-service acceptance or a rematch. Same hard rules and
    capacity as matching, checked under the lock of both enrolments (`places.enrolments_lock`):
    a mentee never gets two mentors, nor a mentor more mentees than places, however many
    start at once."""
    enrolments_lock([mentor.pk, mentee.pk])
    if selectors.active_relationship_of(enrolment=mentee):
        raise ValidationError(ALREADY_MATCHED.replace("You already have", "The mentee already has"))
    if not mentor_has_place(mentor, cohort):
        raise ValidationError(MENTOR_FULL.format(mentor=mentor.user))
    problem = pair_problem(mentee, mentor)
    if problem:
        raise ValidationError(
            SWAP_BREAKS_RULE.format(mentor=mentor.user, mentee=mentee.user, reason=problem)
        )
    people, names = selectors.cohort_people(
        cohort=cohort, enrolments=cohort.enrolments.filter(pk__in=[mentee.pk, mentor.pk])
    )
    by_id = {p.id: p for p in people}
    settings = selectors.match_settings_for(cohort=cohort)
    parts, shared = scoring.pair_components(by_id[mentee.pk], by_id[mentor.pk], settings)
    score = scoring.pair_score(parts, settings.weights)
    pair = Pair(
        mentor_id=mentor.pk, mentee_id=mentee.pk, score=score, components=parts, shared=shared
    )
    relationship = Relationship.objects.create(
        cohort=cohort,
        kind=Relationship.Kind.PAIR,
        score=round(score, 6),
        explanation=pair_explanation(
            pair, by_id[mentee.pk], by_id[mentor.pk], names=names, settings=settings
        ),
        started_at=timezone.now(),
        replaces=replaces,
    )
    requests_close_for(mentee)
    RelationshipMember.objects.bulk_create(
        [
            RelationshipMember(
                relationship=relationship, enrolment=mentor, role=RelationshipMember.Role.MENTOR
            ),
            RelationshipMember(
                relationship=relationship, enrolment=mentee, role=RelationshipMember.Role.MENTEE
            ),
        ]
    )
    if notify:
        relationship_notify_start(relationship=relationship)
    return relationship


@transaction.atomic
def relationship_end_early(
    *, relationship: Relationship, reason: str, ended_by: User
) -> Relationship:
    """End a relationship before the cohort does, with the reason (members are told)."""
    relationship = Relationship.objects.select_for_update().get(pk=relationship.pk)
    if relationship.status == Relationship.Status.ENDED:
        raise ValidationError(RELATIONSHIP_ALREADY_ENDED)
    if not reason.strip():
        raise ValidationError({"reason": END_NEEDS_REASON})
    relationship.status = Relationship.Status.ENDED
    relationship.outcome = Relationship.Outcome.ENDED_EARLY
    relationship.end_reason = reason.strip()
    relationship.ended_at = timezone.now()
    relationship.save(update_fields=["status", "outcome", "end_reason", "ended_at"])
    _relationship_notify_end(
        Notification.Kind.RELATIONSHIP_ENDED,
        relationship=relationship,
        context={"ended_by": ended_by},
    )
    return relationship


@transaction.atomic
def relationship_close(
    *, relationship: Relationship, outcome: str, closed_by: User, reason: str = ""
) -> Relationship:
    """Close a relationship with its outcome (achieved, partly achieved, or ended early, which
    needs a reason) and ask every member for their final feedback."""
    if outcome == Relationship.Outcome.ENDED_EARLY:
        # Its own email already asks for final feedback.
        return relationship_end_early(relationship=relationship, reason=reason, ended_by=closed_by)
    relationship = Relationship.objects.select_for_update().get(pk=relationship.pk)
    if relationship.status == Relationship.Status.ENDED:
        raise ValidationError(RELATIONSHIP_ALREADY_ENDED)
    if outcome not in Relationship.Outcome.values:
        raise ValidationError({"outcome": "Choose how the relationship ended."})
    relationship.status = Relationship.Status.ENDED
    relationship.outcome = outcome
    relationship.end_reason = reason.strip()
    relationship.ended_at = timezone.now()
    relationship.save(update_fields=["status", "outcome", "end_reason", "ended_at"])
    _relationship_notify_end(
        Notification.Kind.RELATIONSHIP_CLOSED,
        relationship=relationship,
        context={"closed_by": closed_by},
    )
    return relationship
