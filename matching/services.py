"""Every write of matching: runs, decisions on proposals, publishing, self-service requests and
ending a relationship early. Keyword-only, one transaction each, emails queued on commit;
problems a coordinator or participant can fix raise ValidationError with the messages below."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from notifications.email import email_render
from notifications.services import email_queue
from programs.models import Cohort, Enrolment

from . import selectors
from .engine import Pair, match, scoring
from .engine.explain import pair_explanation
from .models import (
    MatchExclusion,
    MatchingConfig,
    MatchRun,
    MentorRequest,
    Proposal,
    Relationship,
    RelationshipMember,
    UnmatchedResult,
)

logger = logging.getLogger(__name__)

# --- Messages people see (tests assert on these).
MATCHING_NOT_OPEN = "Start matching on the cohort first: it is the cohort's next step."
RUN_IN_PROGRESS = "A matching run is already under way for this cohort; wait for it to finish."
RUN_NOT_FINISHED = "This run has not finished successfully."
RUN_ALREADY_PUBLISHED = "These matches are already published."
NOTHING_ACCEPTED = "Accept at least one pair before publishing."
SWAP_SAME_MENTOR = "That is already this mentee's mentor."
SWAP_NOT_A_MENTOR = "Choose an approved mentor of this cohort."
SWAP_BREAKS_RULE = "{mentor} cannot mentor {mentee}: {reason}."
MENTOR_FULL = "{mentor} has no place left."
SELF_SERVICE_OFF = "This program does not let mentees choose their mentor."
SELF_SERVICE_CLOSED = "Mentor requests open when the cohort is matching or active."
ALREADY_MATCHED = "You already have a mentor in this cohort."
REQUESTS_OPEN = "You already have requests waiting; withdraw them to choose again."
CHOOSE_ONE_TO_THREE = "Choose one to three mentors, in order of preference."
REQUEST_NOT_OPEN = "This request is no longer waiting for an answer."
NOT_YOUR_REQUEST = "Only the mentor asked can answer this request."
DECLINE_NEEDS_REASON = "Say why, briefly: the mentee will read it."
RELATIONSHIP_ALREADY_ENDED = "This relationship has already ended."
END_NEEDS_REASON = "Give a reason for ending early."

RULE_WORDS = {
    "same_person": "they are the same person",
    "reporting_chain": "they are in the same reporting chain",
    "past_partner": "they have been partners before",
    "excluded": "you excluded this pair",
    "language": "they share no language",
    "time_zone": "their time zones are too far apart",
    "level_direction": "their levels do not suit this kind of program",
}
PROGRESS_STEP = 5  # percent: how often a run writes its progress


# --- Settings and exclusions ---------------------------------------------------------------

MATCHING_CONFIG_FIELDS = (
    "weight_development",
    "weight_skills",
    "weight_department",
    "weight_level",
    "weight_time_zone",
    "weight_language",
    "weight_text",
    "require_shared_language",
    "max_time_zone_gap_hours",
    "allow_past_partners",
    "max_peer_level_gap",
    "request_response_days",
)


@transaction.atomic
def matching_config_update(*, program, **fields: object) -> MatchingConfig:
    config = selectors.matching_config_for(program=program)
    for name, value in fields.items():
        if name in MATCHING_CONFIG_FIELDS:
            setattr(config, name, value)
    if sum(getattr(config, f) for f in MATCHING_CONFIG_FIELDS if f.startswith("weight_")) <= 0:
        raise ValidationError("Give at least one part of the score a weight above zero.")
    config.full_clean()
    config.save()
    return config


@transaction.atomic
def match_exclusion_add(
    *, cohort: Cohort, first: Enrolment, second: Enrolment, reason: str, created_by: User
) -> MatchExclusion:
    if first.cohort_id != cohort.pk or second.cohort_id != cohort.pk:
        raise ValidationError("Both people must be in this cohort.")
    if first.pk == second.pk:
        raise ValidationError("Choose two different people.")
    first, second = sorted((first, second), key=lambda e: e.pk)
    exclusion, _ = MatchExclusion.objects.get_or_create(
        cohort=cohort,
        first=first,
        second=second,
        defaults={"reason": reason.strip()[:200], "created_by": created_by},
    )
    return exclusion


@transaction.atomic
def match_exclusion_remove(*, exclusion: MatchExclusion) -> None:
    exclusion.delete()


# --- Runs ----------------------------------------------------------------------------------


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
    from .tasks import match_run_execute_task

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
def _match_run_store(run, result, people, names, settings, seconds: float) -> None:
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
    groups: dict[object, list[Proposal]] = defaultdict(list)
    skipped = []
    for proposal in accepted:
        # Since the run, people may have found a partner another way (self-service, by hand):
        # never give anyone a second partner, nor a mentor more mentees than places.
        taken = proposal.mentee_id in partnered or (peer_mode and proposal.mentor_id in partnered)
        full = (
            not peer_mode
            and not proposal.circle_number
            and (led[proposal.mentor_id] >= _capacity_of(proposal.mentor, run.cohort))
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


def relationship_notify_start(*, relationship: Relationship) -> None:
    """Email every member who their partners are (queued; sent after commit)."""
    members = list(relationship.members.select_related("enrolment__user"))
    for member in members:
        partners = [m for m in members if m.pk != member.pk]
        rendered = email_render(
            name="match-published",
            context={
                "relationship": relationship,
                "member": member,
                "partners": partners,
                "cohort": relationship.cohort,
                "program": relationship.cohort.program,
            },
        )
        email_queue(
            to=[member.enrolment.user.email],
            subject=rendered.subject,
            text_body=rendered.text_body,
            html_body=rendered.html_body,
        )


# --- Self-service: mentees ask mentors ------------------------------------------------------

SELF_SERVICE_STATUSES = selectors.SELF_SERVICE_STATUSES


def _capacity_of(mentor: Enrolment, cohort: Cohort) -> int:
    if mentor.capacity is not None:
        return mentor.capacity
    return cohort.program.default_mentor_capacity


def _mentor_partners(mentor: Enrolment) -> int:
    """Active relationships the mentor leads (waiting requests are not places taken)."""
    return RelationshipMember.objects.filter(
        enrolment=mentor,
        role__in=[RelationshipMember.Role.MENTOR, RelationshipMember.Role.PEER],
        relationship__status=Relationship.Status.ACTIVE,
    ).count()


def _mentor_has_place(mentor: Enrolment, cohort: Cohort) -> bool:
    return _mentor_partners(mentor) < _capacity_of(mentor, cohort)


def _pair_problem(mentee: Enrolment, mentor: Enrolment) -> str | None:
    """The hard rule this pair breaks, in words, or None."""
    cohort = mentee.cohort
    people, _ = selectors.cohort_people(
        cohort=cohort, enrolments=cohort.enrolments.filter(pk__in=[mentee.pk, mentor.pk])
    )
    by_id = {p.id: p for p in people}
    if mentee.pk not in by_id or mentor.pk not in by_id:
        return "both must be approved in this cohort"
    broken = scoring.pair_rule_broken(
        by_id[mentee.pk], by_id[mentor.pk], selectors.match_settings_for(cohort=cohort)
    )
    return RULE_WORDS[broken] if broken else None


@transaction.atomic
def mentor_request_create(
    *, mentee: Enrolment, mentors: list[Enrolment], note: str = ""
) -> list[MentorRequest]:
    """A mentee asks up to three mentors, best first. The first request goes out now; the
    others wait and go out in turn if it is declined or expires."""
    cohort = Cohort.objects.select_related("program").get(pk=mentee.cohort_id)
    if mentee.role != Enrolment.Role.MENTEE or mentee.status != Enrolment.Status.APPROVED:
        raise ValidationError("Only approved mentees can ask for a mentor.")
    if not cohort.program.mentees_may_request:
        raise ValidationError(SELF_SERVICE_OFF)
    if cohort.status not in SELF_SERVICE_STATUSES:
        raise ValidationError(SELF_SERVICE_CLOSED)
    if selectors.active_relationship_of(enrolment=mentee):
        raise ValidationError(ALREADY_MATCHED)
    if mentee.requests_made.filter(status__in=MentorRequest.OPEN_STATUSES).exists():
        raise ValidationError(REQUESTS_OPEN)
    unique = list(dict.fromkeys(m.pk for m in mentors))
    if not 1 <= len(unique) <= 3:
        raise ValidationError(CHOOSE_ONE_TO_THREE)
    chosen = {m.pk: m for m in mentors}
    for mentor in (chosen[pk] for pk in unique):
        if mentor.role != Enrolment.Role.MENTOR or mentor.status != Enrolment.Status.APPROVED:
            raise ValidationError(SWAP_NOT_A_MENTOR)
        problem = _pair_problem(mentee, mentor)
        if problem:
            raise ValidationError(
                SWAP_BREAKS_RULE.format(mentor=mentor.user, mentee=mentee.user, reason=problem)
            )
    # Earlier requests to the same mentors (declined, expired, withdrawn) are replaced.
    MentorRequest.objects.filter(mentee=mentee, mentor_id__in=unique).delete()
    requests = MentorRequest.objects.bulk_create(
        MentorRequest(cohort=cohort, mentee=mentee, mentor_id=pk, rank=rank, note=note.strip())
        for rank, pk in enumerate(unique, start=1)
    )
    _request_send_next(mentee=mentee)
    return requests


def _requests_close_for(mentee: Enrolment) -> int:
    """The mentee has a mentor now (by any route): their open requests are withdrawn."""
    return mentee.requests_made.filter(status__in=MentorRequest.OPEN_STATUSES).update(
        status=MentorRequest.Status.WITHDRAWN
    )


def _request_send_next(
    *, mentee: Enrolment, announce_none_left: bool = True
) -> MentorRequest | None:
    """Send the mentee's next waiting request to its mentor, skipping mentors who filled up
    meanwhile. Tells the mentee when none is left (unless the caller already has)."""
    cohort = mentee.cohort
    if selectors.active_relationship_of(enrolment=mentee):
        _requests_close_for(mentee)
        return None
    days = selectors.matching_config_for(program=cohort.program).request_response_days
    for request in mentee.requests_made.filter(status=MentorRequest.Status.QUEUED).select_related(
        "mentor__user", "mentee__user"
    ):
        if not _mentor_has_place(request.mentor, cohort):
            request.status = MentorRequest.Status.WITHDRAWN
            request.decline_reason = "The mentor had no place left."
            request.save(update_fields=["status", "decline_reason"])
            continue
        now = timezone.now()
        request.status = MentorRequest.Status.PENDING
        request.sent_at = now
        request.respond_by = now + timezone.timedelta(days=days)
        request.save(update_fields=["status", "sent_at", "respond_by"])
        _notify("mentor-request", to=request.mentor.user, request=request)
        return request
    if (
        announce_none_left
        and mentee.requests_made.exclude(status=MentorRequest.Status.ACCEPTED).exists()
    ):
        _notify("mentor-request-none-left", to=mentee.user, mentee=mentee, cohort=cohort)
    return None


def _notify(template: str, *, to: User, **context: object) -> None:
    rendered = email_render(name=template, context={"recipient": to, **context})
    email_queue(
        to=[to.email],
        subject=rendered.subject,
        text_body=rendered.text_body,
        html_body=rendered.html_body,
    )


def _request_open_for_mentor(request: MentorRequest, by_user: User) -> MentorRequest:
    request = (
        MentorRequest.objects.select_for_update()
        .select_related("mentor__user", "mentee__user", "cohort__program")
        .get(pk=request.pk)
    )
    if request.mentor.user_id != by_user.pk:
        raise ValidationError(NOT_YOUR_REQUEST)
    if request.status not in (MentorRequest.Status.PENDING, MentorRequest.Status.QUESTION):
        raise ValidationError(REQUEST_NOT_OPEN)
    return request


@transaction.atomic
def mentor_request_accept(*, request: MentorRequest, by_user: User) -> Relationship:
    """The mentor says yes: the pair's relationship starts and the mentee's other requests are
    withdrawn."""
    request = _request_open_for_mentor(request, by_user)
    if not request.cohort.program.mentees_may_request:
        raise ValidationError(SELF_SERVICE_OFF)
    if request.cohort.status not in SELF_SERVICE_STATUSES:
        raise ValidationError(SELF_SERVICE_CLOSED)
    relationship = relationship_create(
        cohort=request.cohort, mentor=request.mentor, mentee=request.mentee, notify=False
    )
    request.status = MentorRequest.Status.ACCEPTED
    request.responded_at = timezone.now()
    request.relationship = relationship
    request.save(update_fields=["status", "responded_at", "relationship"])
    _notify("mentor-request-accepted", to=request.mentee.user, request=request)
    if not _mentor_has_place(request.mentor, request.cohort):
        _requests_release_full_mentor(request.mentor)
    return relationship


def _requests_release_full_mentor(mentor: Enrolment) -> None:
    """A mentor's last place is taken: their other waiting requests cannot be accepted, so
    each of those mentees moves on to their next choice now rather than at expiry."""
    waiting = list(
        mentor.requests_received.filter(
            status__in=[MentorRequest.Status.PENDING, MentorRequest.Status.QUESTION]
        ).select_related("mentee__cohort__program", "mentee__user")
    )
    for request in waiting:
        request.status = MentorRequest.Status.WITHDRAWN
        request.decline_reason = "The mentor had no place left."
        request.responded_at = timezone.now()
        request.save(update_fields=["status", "decline_reason", "responded_at"])
        _request_send_next(mentee=request.mentee)


@transaction.atomic
def mentor_request_decline(*, request: MentorRequest, by_user: User, reason: str) -> MentorRequest:
    if not reason.strip():
        raise ValidationError({"reason": DECLINE_NEEDS_REASON})
    request = _request_open_for_mentor(request, by_user)
    request.status = MentorRequest.Status.DECLINED
    request.decline_reason = reason.strip()
    request.responded_at = timezone.now()
    request.save(update_fields=["status", "decline_reason", "responded_at"])
    # The "declined" email already invites them to choose again if nothing else is waiting.
    _notify("mentor-request-declined", to=request.mentee.user, request=request)
    _request_send_next(mentee=request.mentee, announce_none_left=False)
    return request


@transaction.atomic
def mentor_request_ask(*, request: MentorRequest, by_user: User, question: str) -> MentorRequest:
    """The mentor asks something first; the answer deadline stays as it was."""
    if not question.strip():
        raise ValidationError({"question": "Write your question."})
    request = _request_open_for_mentor(request, by_user)
    request.status = MentorRequest.Status.QUESTION
    request.question = question.strip()
    request.save(update_fields=["status", "question"])
    _notify("mentor-request-question", to=request.mentee.user, request=request)
    return request


@transaction.atomic
def mentor_request_answer(*, request: MentorRequest, by_user: User, answer: str) -> MentorRequest:
    request = (
        MentorRequest.objects.select_for_update()
        .select_related("mentor__user", "mentee__user")
        .get(pk=request.pk)
    )
    if request.mentee.user_id != by_user.pk:
        raise ValidationError("Only the mentee who asked can answer.")
    if request.status != MentorRequest.Status.QUESTION:
        raise ValidationError(REQUEST_NOT_OPEN)
    if not answer.strip():
        raise ValidationError({"answer": "Write your answer."})
    request.status = MentorRequest.Status.PENDING
    request.answer = answer.strip()
    request.save(update_fields=["status", "answer"])
    _notify("mentor-request-answered", to=request.mentor.user, request=request)
    return request


@transaction.atomic
def mentor_request_withdraw(*, mentee: Enrolment) -> int:
    """The mentee takes back every open request, to choose again."""
    return mentee.requests_made.filter(status__in=MentorRequest.OPEN_STATUSES).update(
        status=MentorRequest.Status.WITHDRAWN
    )


def mentor_request_expire_due() -> int:
    """Expire requests past their answer date and send each mentee's next choice. Each request
    is claimed with a conditional UPDATE, so two sweeps at once never double-send; a failure
    on one request is logged and the sweep goes on."""
    expired = 0
    due = MentorRequest.objects.filter(
        status__in=[MentorRequest.Status.PENDING, MentorRequest.Status.QUESTION],
        respond_by__lt=timezone.now(),
    ).values_list("pk", flat=True)
    for request_id in list(due):
        try:
            with transaction.atomic():
                claimed = MentorRequest.objects.filter(
                    pk=request_id,
                    status__in=[MentorRequest.Status.PENDING, MentorRequest.Status.QUESTION],
                ).update(status=MentorRequest.Status.EXPIRED, responded_at=timezone.now())
                if not claimed:
                    continue
                request = MentorRequest.objects.select_related(
                    "mentee__cohort__program", "mentee__user", "mentor__user"
                ).get(pk=request_id)
                _notify("mentor-request-expired", to=request.mentee.user, request=request)
                _request_send_next(mentee=request.mentee)
                expired += 1
        except Exception:
            logger.exception("could not expire mentor request %s", request_id)
    return expired


# --- Relationships: by hand, ended early, replaced ------------------------------------------


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
    capacity as matching."""
    if selectors.active_relationship_of(enrolment=mentee):
        raise ValidationError(ALREADY_MATCHED.replace("You already have", "The mentee already has"))
    if not _mentor_has_place(mentor, cohort):
        raise ValidationError(MENTOR_FULL.format(mentor=mentor.user))
    problem = _pair_problem(mentee, mentor)
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
    _requests_close_for(mentee)
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
    for member in relationship.members.select_related("enrolment__user"):
        _notify(
            "relationship-ended",
            to=member.enrolment.user,
            relationship=relationship,
            ended_by=ended_by,
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
    for member in relationship.members.select_related("enrolment__user"):
        _notify(
            "relationship-closed",
            to=member.enrolment.user,
            relationship=relationship,
            closed_by=closed_by,
        )
    return relationship
