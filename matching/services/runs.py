"""Matching runs: starting one, running it (the engine), reviewing its proposals (decide,
lock, swap, accept all), re-running with locked pairs, and publishing the accepted ones."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from matching import selectors
from matching.engine import MatchResult, MatchSettings, Pair, Person, match, scoring
from matching.engine.explain import pair_explanation
from matching.models import (
    MatchRun,
    MentorRequest,
    Proposal,
    Relationship,
    RelationshipMember,
    UnmatchedResult,
)
from programs.models import Cohort, Enrolment

from .messages import (
    MATCHING_NOT_OPEN,
    MENTOR_FULL,
    NOTHING_ACCEPTED,
    RULE_WORDS,
    RUN_ALREADY_PUBLISHED,
    RUN_IN_PROGRESS,
    RUN_NOT_FINISHED,
    SWAP_BREAKS_RULE,
    SWAP_NOT_A_MENTOR,
    SWAP_SAME_MENTOR,
)
from .places import capacity_of
from .relationships import relationship_notify_start

logger = logging.getLogger(__name__)

PROGRESS_STEP = 5  # percent: how often a run writes its progress


@transaction.atomic
def match_run_create(
    *,
    cohort: Cohort,
    created_by: User,
    objective: str = MatchRun.Objective.SCORE,
    relax: selectors.Relaxation = selectors.NO_RELAXATION,
    locked_from: MatchRun | None = None,
) -> MatchRun:
    """Queue a matching run; a worker runs it once this transaction commits. Earlier runs and
    their results stay as they were, whatever happens to this one."""
    cohort = Cohort.objects.select_for_update().select_related("program").get(pk=cohort.pk)
    if cohort.status != Cohort.Status.MATCHING:
        raise ValidationError(MATCHING_NOT_OPEN)
    if cohort.match_runs.filter(
        status__in=[MatchRun.Status.QUEUED, MatchRun.Status.RUNNING]
    ).exists():
        raise ValidationError(RUN_IN_PROGRESS)
    locked: tuple[tuple[int, int], ...] = ()
    if locked_from is not None:
        locked = tuple(
            locked_from.proposals.filter(locked=True).values_list("mentor_id", "mentee_id")
        )
    settings = selectors.match_settings_for(
        cohort=cohort, objective=objective, locked_pairs=locked, relax=relax
    )
    parameters = selectors.match_settings_as_parameters(settings)
    parameters["relaxed"] = [name for name, on in vars(relax).items() if on]
    run = MatchRun.objects.create(
        cohort=cohort,
        created_by=created_by,
        objective=objective,
        parameters=parameters,
        progress_message="Waiting for a worker",
    )
    from matching.tasks import match_run_execute_task

    transaction.on_commit(partial(match_run_execute_task.delay, run_id=run.pk))
    return run


class _ProgressWriter:
    """Writes a run's progress for the page that polls it, at most every few percent."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.last = -PROGRESS_STEP

    def __call__(self, percent: int, message: str) -> None:
        if percent - self.last < PROGRESS_STEP and percent < 100:
            return
        self.last = percent
        MatchRun.objects.filter(pk=self.run_id).update(
            progress=min(percent, 99), progress_message=message[:200]
        )


def match_run_execute(*, run_id: int) -> MatchRun:
    """Run a queued run: load the cohort, call the engine, store proposals and reasons.

    Safe to run twice: the run is claimed with a conditional UPDATE (queued → running), so a
    second delivery finds nothing to do. A failure is stored on the run for the coordinator to
    read; earlier runs are never touched."""
    claimed = MatchRun.objects.filter(pk=run_id, status=MatchRun.Status.QUEUED).update(
        status=MatchRun.Status.RUNNING,
        started_at=timezone.now(),
        progress=1,
        progress_message="Loading the cohort",
    )
    run = MatchRun.objects.select_related("cohort__program").get(pk=run_id)
    if not claimed:
        return run
    started = time.perf_counter()
    try:
        people, names = selectors.run_people(cohort=run.cohort)
        settings = selectors.match_settings_from_parameters(
            {
                **run.parameters,
                "circle_size": run.cohort.program.circle_size,
                "mentors_per_circle": run.cohort.program.mentors_per_circle,
            }
        )
        result = match(people=people, settings=settings, progress=_ProgressWriter(run_id))
        _match_run_store(run, result, people, names, settings, time.perf_counter() - started)
    except Exception as error:  # the coordinator must see any failure, not a spinner forever
        logger.exception("matching run %s failed", run_id)
        MatchRun.objects.filter(pk=run_id).update(
            status=MatchRun.Status.FAILED,
            error=f"{type(error).__name__}: {error}"[:2000],
            finished_at=timezone.now(),
            duration_seconds=time.perf_counter() - started,
            progress_message="Failed",
        )
    run.refresh_from_db()
    return run


@transaction.atomic
def _match_run_store(
    run: MatchRun,
    result: MatchResult,
    people: Sequence[Person],
    names: dict[int, str],
    settings: MatchSettings,
    seconds: float,
) -> None:
    by_id = {p.id: p for p in people}
    circle_of: dict[int, int] = {}
    for number, circle in enumerate(result.circles, start=1):
        for member_id in (*circle.mentor_ids, *circle.member_ids):
            circle_of[member_id] = number
    proposals = []
    for pair in result.pairs:
        mentee, mentor = by_id[pair.mentee_id], by_id[pair.mentor_id]
        proposals.append(
            Proposal(
                run=run,
                mentor_id=pair.mentor_id,
                mentee_id=pair.mentee_id,
                circle_number=circle_of.get(pair.mentee_id),
                score=pair.score,
                components=pair.components,
                explanation=pair_explanation(pair, mentee, mentor, names=names, settings=settings),
                alternatives=[
                    {"mentor": a.mentor_id, "score": a.score, "has_capacity": a.has_capacity}
                    for a in result.alternatives.get(pair.mentee_id, [])
                ],
                locked=pair.locked,
                decision=Proposal.Decision.ACCEPTED if pair.locked else Proposal.Decision.PROPOSED,
            )
        )
    Proposal.objects.bulk_create(proposals, batch_size=1000)
    UnmatchedResult.objects.bulk_create(
        [
            UnmatchedResult(
                run=run, enrolment_id=u.person_id, reason_code=u.reason_code, reason=u.reason[:300]
            )
            for u in result.unmatched
        ],
        batch_size=1000,
    )
    matched_people = {p.mentee_id for p in result.pairs}
    if settings.mode == "peer":
        matched_people |= {p.mentor_id for p in result.pairs}
    MatchRun.objects.filter(pk=run.pk).update(
        status=MatchRun.Status.SUCCEEDED,
        progress=100,
        progress_message="Done",
        finished_at=timezone.now(),
        duration_seconds=seconds,
        objective_value=result.objective_value,
        matched_count=len(matched_people),
        unmatched_count=sum(1 for u in result.unmatched if by_id[u.person_id].role != "mentor"),
    )


def _run_locked(run_id: int) -> MatchRun:
    """The run, re-read and locked, so a decision cannot slip past a publish."""
    run = MatchRun.objects.select_for_update().get(pk=run_id)
    _run_editable(run)
    return run


def _run_editable(run: MatchRun) -> None:
    if run.status != MatchRun.Status.SUCCEEDED:
        raise ValidationError(RUN_NOT_FINISHED)
    if run.published_at is not None:
        raise ValidationError(RUN_ALREADY_PUBLISHED)


@transaction.atomic
def proposal_decide(*, proposal: Proposal, decision: str) -> Proposal:
    _run_locked(proposal.run_id)
    if decision not in Proposal.Decision.values:
        raise ValidationError("Accept or reject the pair.")
    proposal.decision = Proposal.Decision(decision)
    proposal.save(update_fields=["decision"])
    return proposal


@transaction.atomic
def proposals_accept_all(*, run: MatchRun) -> int:
    """Accept every pair still only proposed (rejected ones stay rejected)."""
    _run_locked(run.pk)
    return run.proposals.filter(decision=Proposal.Decision.PROPOSED).update(
        decision=Proposal.Decision.ACCEPTED
    )


@transaction.atomic
def proposal_lock(*, proposal: Proposal, locked: bool) -> Proposal:
    _run_locked(proposal.run_id)
    proposal.locked = locked
    if locked:
        proposal.decision = Proposal.Decision.ACCEPTED
    proposal.save(update_fields=["locked", "decision"])
    return proposal


@dataclass
class SwapResult:
    proposal: Proposal
    score_before: float
    score_after: float

    @property
    def change(self) -> float:
        return self.score_after - self.score_before


@transaction.atomic
def proposal_swap(*, proposal: Proposal, mentor: Enrolment) -> SwapResult:
    """Give the mentee another mentor by hand. The pair is checked against the same hard
    rules and the new mentor's places in this run; the new score and its explanation replace
    the old, and the change in score is returned for the coordinator to see."""
    proposal = (
        Proposal.objects.select_for_update()
        .select_related("run__cohort__program")
        .get(pk=proposal.pk)
    )
    run = proposal.run
    _run_editable(run)
    if mentor.pk == proposal.mentor_id:
        raise ValidationError(SWAP_SAME_MENTOR)
    if (
        mentor.cohort_id != run.cohort_id
        or mentor.status != Enrolment.Status.APPROVED
        or mentor.role == Enrolment.Role.MENTEE
    ):
        raise ValidationError(SWAP_NOT_A_MENTOR)
    people, names = selectors.cohort_people(
        cohort=run.cohort,
        enrolments=run.cohort.enrolments.filter(pk__in=[mentor.pk, proposal.mentee_id]),
    )
    by_id = {p.id: p for p in people}
    mentee_person, mentor_person = by_id[proposal.mentee_id], by_id[mentor.pk]
    settings = selectors.match_settings_from_parameters(run.parameters)
    broken = scoring.pair_rule_broken(mentee_person, mentor_person, settings)
    if broken:
        raise ValidationError(
            SWAP_BREAKS_RULE.format(
                mentor=mentor.user, mentee=proposal.mentee.user, reason=RULE_WORDS[broken]
            )
        )
    taken = run.proposals.filter(mentor=mentor).exclude(decision=Proposal.Decision.REJECTED).count()
    if taken >= mentor_person.capacity:
        raise ValidationError(MENTOR_FULL.format(mentor=mentor.user))
    parts, shared = scoring.pair_components(mentee_person, mentor_person, settings)
    score = scoring.pair_score(parts, settings.weights)
    pair = Pair(
        mentor_id=mentor.pk,
        mentee_id=proposal.mentee_id,
        score=score,
        components=parts,
        shared=shared,
    )
    before = proposal.score
    if proposal.swapped_from_id is None:
        proposal.swapped_from_id = proposal.mentor_id
        proposal.score_before_swap = before
    proposal.mentor = mentor
    proposal.alternatives = [a for a in proposal.alternatives if a.get("mentor") != mentor.pk]
    proposal.score = round(score, 6)
    proposal.components = parts
    proposal.explanation = pair_explanation(
        pair, mentee_person, mentor_person, names=names, settings=settings
    )
    proposal.full_clean(exclude=["run", "mentee"])
    proposal.save()
    # The run's total is what coordinators compare runs by: keep it true after a hand swap.
    MatchRun.objects.filter(pk=run.pk).update(
        objective_value=F("objective_value") + (proposal.score - before)
    )
    return SwapResult(proposal=proposal, score_before=before, score_after=proposal.score)


def match_run_rerun(*, run: MatchRun, created_by: User) -> MatchRun:
    """Run again with the same objective and relaxations, keeping this run's locked pairs."""
    relaxed = set(run.parameters.get("relaxed", []))
    return match_run_create(
        cohort=run.cohort,
        created_by=created_by,
        objective=run.objective,
        relax=selectors.Relaxation(
            language="language" in relaxed,
            time_zone="time_zone" in relaxed,
            past_partners="past_partners" in relaxed,
        ),
        locked_from=run,
    )


@dataclass
class PublishResult:
    relationships: list[Relationship]
    skipped: list[Proposal]  # mentees who meanwhile got a mentor another way


@transaction.atomic
def match_run_publish(*, run: MatchRun, published_by: User) -> PublishResult:
    """Turn the accepted pairs (or circles) into mentoring relationships and tell everyone by
    email once committed. Publishing twice does nothing the second time."""
    run = MatchRun.objects.select_for_update().select_related("cohort__program").get(pk=run.pk)
    _run_editable(run)
    accepted = list(
        run.proposals.filter(decision=Proposal.Decision.ACCEPTED).select_related(
            "mentor__user", "mentee__user"
        )
    )
    if not accepted:
        raise ValidationError(NOTHING_ACCEPTED)
    active = RelationshipMember.objects.filter(
        relationship__cohort=run.cohort, relationship__status=Relationship.Status.ACTIVE
    )
    partnered = set(
        active.filter(
            role__in=[RelationshipMember.Role.MENTEE, RelationshipMember.Role.PEER]
        ).values_list("enrolment_id", flat=True)
    )
    led = selectors.mentor_load(cohort=run.cohort, count_waiting_requests=False)
    now = timezone.now()
    peer_mode = run.parameters.get("mode") == "peer"
    groups: dict[tuple[str, int], list[Proposal]] = defaultdict(list)
    skipped = []
    for proposal in accepted:
        # Since the run, people may have found a partner another way (self-service, by hand):
        # never give anyone a second partner, nor a mentor more mentees than places.
        taken = proposal.mentee_id in partnered or (peer_mode and proposal.mentor_id in partnered)
        full = (
            not peer_mode
            and not proposal.circle_number
            and (led[proposal.mentor_id] >= capacity_of(proposal.mentor, run.cohort))
        )
        if taken or full:
            skipped.append(proposal)
            continue
        if peer_mode:
            partnered.update({proposal.mentor_id, proposal.mentee_id})
        elif not proposal.circle_number:
            led[proposal.mentor_id] += 1
        key = (
            ("circle", proposal.circle_number) if proposal.circle_number else ("pair", proposal.pk)
        )
        groups[key].append(proposal)
    relationships = []
    for (kind, _), proposals in groups.items():
        relationship = Relationship.objects.create(
            cohort=run.cohort,
            kind=Relationship.Kind.CIRCLE if kind == "circle" else Relationship.Kind.PAIR,
            source_run=run,
            score=sum(p.score for p in proposals) / len(proposals),
            explanation=proposals[0].explanation if kind == "pair" else "",
            started_at=now,
        )
        members: dict[int, str] = {}
        for proposal in proposals:
            mentor_role = (
                RelationshipMember.Role.PEER if peer_mode else RelationshipMember.Role.MENTOR
            )
            mentee_role = (
                RelationshipMember.Role.PEER if peer_mode else RelationshipMember.Role.MENTEE
            )
            members.setdefault(proposal.mentor_id, mentor_role)
            members.setdefault(proposal.mentee_id, mentee_role)
        RelationshipMember.objects.bulk_create(
            RelationshipMember(relationship=relationship, enrolment_id=e, role=r)
            for e, r in members.items()
        )
        relationships.append(relationship)
    MentorRequest.objects.filter(
        mentee_id__in=[p.mentee_id for group in groups.values() for p in group],
        status__in=MentorRequest.OPEN_STATUSES,
    ).update(status=MentorRequest.Status.WITHDRAWN)
    run.published_at = now
    run.save(update_fields=["published_at"])
    for relationship in relationships:
        relationship_notify_start(relationship=relationship)
    return PublishResult(relationships=relationships, skipped=skipped)
