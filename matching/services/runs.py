"""Matching runs: starting one, running it (the engine), reviewing its proposals (decide,
lock, swap, accept all) and re-running with locked pairs. Publishing the accepted ones is in
`publish`."""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from accounts.services import submission_claim, submission_record
from common.tasks import enqueue, enqueue_on_commit
from matching import selectors
from matching.engine import MatchResult, MatchSettings, Pair, Person, match, scoring
from matching.engine.explain import pair_explanation
from matching.models import (
    MatchRun,
    Proposal,
    UnmatchedResult,
)
from programs.models import Cohort, Enrolment

from .guards import run_editable_check
from .messages import (
    MATCHING_NOT_OPEN,
    MENTOR_FULL,
    RULE_WORDS,
    RUN_IN_PROGRESS,
    RUN_WORKER_LOST,
    SWAP_BREAKS_RULE,
    SWAP_NOT_A_MENTOR,
    SWAP_SAME_MENTOR,
)

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
    submission_token: uuid.UUID | None = None,
) -> MatchRun:
    """Queue a matching run; a worker runs it once this transaction commits. Earlier runs and
    their results stay as they were, whatever happens to this one. The same start (or re-run)
    button sent twice starts one run (`submission_token`)."""
    submission_claim(user=created_by, token=submission_token, model=MatchRun)
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

    enqueue_on_commit(match_run_execute_task, run_id=run.pk)
    submission_record(user=created_by, token=submission_token, created=run)
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


def match_run_relay(*, limit: int = 50) -> int:
    """Publish again runs still queued OUTBOX_RELAY_GRACE_SECONDS after they were made (their
    task never reached a worker); returns how many the broker took. A spare message is
    harmless: match_run_execute claims a run once."""
    cutoff = timezone.now() - dt.timedelta(seconds=django_settings.OUTBOX_RELAY_GRACE_SECONDS)
    ids = list(
        MatchRun.objects.filter(status=MatchRun.Status.QUEUED, created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    from matching.tasks import match_run_execute_task

    published = 0
    for run_id in ids:
        logger.warning("matching run %s still queued: publishing it again", run_id)
        if not enqueue(match_run_execute_task, run_id=run_id):
            break
        published += 1
    return published


def match_run_fail_stuck() -> int:
    """Mark failed, with RUN_WORKER_LOST for the coordinator, the runs "running" for longer than
    MATCH_RUN_STUCK_SECONDS: past the task's hard time limit, so their worker is gone (killed,
    out of memory) and nothing will finish them. They are not re-run on their own: a run that
    killed its worker would kill the next one too. Results are stored in one transaction at the
    end, so a lost run stored nothing and the coordinator can start another at once."""
    cutoff = timezone.now() - dt.timedelta(seconds=django_settings.MATCH_RUN_STUCK_SECONDS)
    failed = MatchRun.objects.filter(status=MatchRun.Status.RUNNING, started_at__lt=cutoff).update(
        status=MatchRun.Status.FAILED,
        error=RUN_WORKER_LOST,
        finished_at=timezone.now(),
        progress_message="Failed",
    )
    if failed:
        logger.error("%s matching run(s) lost their worker; marked failed", failed)
    return failed


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
    run_editable_check(run)
    return run


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
    run_editable_check(run)
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


def match_run_rerun(
    *, run: MatchRun, created_by: User, submission_token: uuid.UUID | None = None
) -> MatchRun:
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
        submission_token=submission_token,
    )
