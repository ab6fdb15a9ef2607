"""Self-service: a mentee asks up to three mentors in turn; a mentor accepts, declines or asks
a question first; requests nobody answers expire and the next choice is asked.

Places. A mentor's place is taken by an active relationship and held by a request waiting for
their answer (pending, or with a question). A request goes out only while its mentor has a
place neither taken nor held, checked under the lock of the mentor's enrolment row; otherwise
it is skipped and the mentee's next choice is asked. So twenty mentees asking at once for a
mentor's last place leave exactly one request waiting (the others are told the mentor has no
place left), and an acceptance finds the place its request held. Requests are not a queue
beyond capacity: a waiting list would keep mentees waiting on a mentor who cannot take them,
when their next choice could answer now. A coordinator (a rematch, a publish) may still fill a
mentor's held place; an acceptance then says the mentor is full, and once a mentor is full the
other requests waiting on them are withdrawn and those mentees move on at once.

Lock order: see `places` (enrolment rows first, all at once, in id order). Accepting, declining
and expiring commit their own pair, then ask each freed mentee's next choice in a transaction of
its own, so none holds more than one person's mentors at a time; they are not meant to be called
inside another transaction. If that second step fails, `mentor_request_expire_due` (every 15
minutes) finds the mentee with choices queued and none sent, and sends the next."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import submission_claim, submission_record
from matching import selectors
from matching.models import MentorRequest, Relationship
from notifications.models import Notification
from notifications.services import notify
from programs.models import Cohort, Enrolment

from .messages import (
    ALREADY_MATCHED,
    CHOOSE_ONE_TO_THREE,
    DECLINE_NEEDS_REASON,
    NOT_YOUR_REQUEST,
    REQUEST_NOT_OPEN,
    REQUESTS_OPEN,
    SELF_SERVICE_CLOSED,
    SELF_SERVICE_OFF,
    SWAP_BREAKS_RULE,
    SWAP_NOT_A_MENTOR,
)
from .places import (
    enrolments_lock,
    mentor_has_place,
    mentor_has_place_for_request,
    pair_problem,
    requests_close_for,
)
from .relationships import relationship_create

logger = logging.getLogger(__name__)

SELF_SERVICE_STATUSES = selectors.SELF_SERVICE_STATUSES
# Why a mentee may not ask, in the order a request reports it.
CHOICE_BLOCK_MESSAGES = {
    selectors.ChoiceBlock.NOT_APPROVED_MENTEE: "Only approved mentees can ask for a mentor.",
    selectors.ChoiceBlock.PROGRAM_OFF: SELF_SERVICE_OFF,
    selectors.ChoiceBlock.COHORT_CLOSED: SELF_SERVICE_CLOSED,
    selectors.ChoiceBlock.MATCHED: ALREADY_MATCHED,
}


WAITING_STATUSES = (MentorRequest.Status.PENDING, MentorRequest.Status.QUESTION)


@transaction.atomic
def mentor_request_create(
    *,
    mentee: Enrolment,
    mentors: list[Enrolment],
    note: str = "",
    submission_token: uuid.UUID | None = None,
) -> list[MentorRequest]:
    """A mentee asks up to three mentors, best first. The first request with a free place goes
    out now; the others wait and go out in turn if it is declined or expires. The mentee's and
    the mentors' enrolments are locked first: the same choice sent twice at once makes one set
    of requests, and mentees asking for one last place at once are served one at a time."""
    submission_claim(user=mentee.user, token=submission_token, model=MentorRequest)
    enrolments_lock([mentee.pk, *(m.pk for m in mentors)])
    cohort = Cohort.objects.select_related("program").get(pk=mentee.cohort_id)
    blocks = selectors.mentor_choice_blocks(
        enrolment=mentee,
        cohort=cohort,
        matched=selectors.active_relationship_of(enrolment=mentee) is not None,
    )
    for block, message in CHOICE_BLOCK_MESSAGES.items():
        if block in blocks:
            raise ValidationError(message)
    if mentee.requests_made.filter(status__in=MentorRequest.OPEN_STATUSES).exists():
        raise ValidationError(REQUESTS_OPEN)
    unique = list(dict.fromkeys(m.pk for m in mentors))
    if not 1 <= len(unique) <= 3:
        raise ValidationError(CHOOSE_ONE_TO_THREE)
    chosen = {m.pk: m for m in mentors}
    for mentor in (chosen[pk] for pk in unique):
        if mentor.role != Enrolment.Role.MENTOR or mentor.status != Enrolment.Status.APPROVED:
            raise ValidationError(SWAP_NOT_A_MENTOR)
        problem = pair_problem(mentee, mentor)
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
    submission_record(user=mentee.user, token=submission_token, created=requests[0])
    return requests


def _request_send_next(
    *, mentee: Enrolment, announce_none_left: bool = True
) -> MentorRequest | None:
    """Send the mentee's next queued request to its mentor, skipping mentors with no place free
    (`mentor_has_place_for_request`, under the lock of the mentee's and those mentors'
    enrolments). Tells the mentee when none is left (unless the caller already has). Nothing
    to do while one of their requests already waits: run twice, it sends once."""
    cohort = mentee.cohort
    queued = mentee.requests_made.filter(status=MentorRequest.Status.QUEUED)
    locked = set(queued.values_list("mentor_id", flat=True))
    enrolments_lock([mentee.pk, *locked])
    if selectors.active_relationship_of(enrolment=mentee):
        requests_close_for(mentee)
        return None
    if mentee.requests_made.filter(status__in=WAITING_STATUSES).exists():
        return None
    days = selectors.matching_config_for(program=cohort.program).request_response_days
    for request in queued.select_related("mentor__user", "mentee__user"):
        if request.mentor_id not in locked:
            # Queued after the lock was taken, by a choice that sent its own first request.
            continue
        if not mentor_has_place_for_request(request.mentor, cohort):
            request.status = MentorRequest.Status.WITHDRAWN
            request.decline_reason = "The mentor had no place left."
            request.save(update_fields=["status", "decline_reason"])
            continue
        now = timezone.now()
        request.status = MentorRequest.Status.PENDING
        request.sent_at = now
        request.respond_by = now + dt.timedelta(days=days)
        request.save(update_fields=["status", "sent_at", "respond_by"])
        notify(
            kind=Notification.Kind.MENTOR_REQUEST,
            recipient=request.mentor.user,
            about=request,
            context={"request": request},
            url=reverse("matching:request_inbox"),
        )
        return request
    latest = (
        mentee.requests_made.exclude(status=MentorRequest.Status.ACCEPTED)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if announce_none_left and latest is not None:
        # Each choice of mentors makes new requests, so the newest one names the round: a
        # mentee who chooses again and runs out again is told again, but one round's last
        # decline, expiry or full mentor tells them once.
        notify(
            kind=Notification.Kind.MENTOR_REQUEST_NONE_LEFT,
            recipient=mentee.user,
            about=mentee,
            context={"mentee": mentee, "cohort": cohort},
            url=reverse("matching:recommendations", args=[mentee.pk]),
            period=f"after-request-{latest}",
        )
    return None


def _request_notify_mentee(
    kind: Notification.Kind, *, request: MentorRequest, period: str = ""
) -> None:
    """Tell the mentee what became of their request; they act on their mentor choices."""
    notify(
        kind=kind,
        recipient=request.mentee.user,
        about=request,
        context={"request": request},
        url=reverse("matching:recommendations", args=[request.mentee_id]),
        period=period,
    )


def _question_round(request: MentorRequest) -> str:
    """A mentor may ask more than one question about a request (ask, answer, ask again):
    each question, and the answer to it, is a message of its own; the same question sent
    twice is one."""
    return "question-" + hashlib.sha256(request.question.encode()).hexdigest()[:12]


def _request_open_for_mentor(request: MentorRequest, by_user: User) -> MentorRequest:
    # Only the request's row (`of`): the people and cohort joined in are read, not locked, so
    # this lock never comes before an enrolment's (see `places`).
    request = (
        MentorRequest.objects.select_for_update(of=("self",))
        .select_related("mentor__user", "mentee__user", "cohort__program")
        .get(pk=request.pk)
    )
    if request.mentor.user_id != by_user.pk:
        raise ValidationError(NOT_YOUR_REQUEST)
    if request.status not in (MentorRequest.Status.PENDING, MentorRequest.Status.QUESTION):
        raise ValidationError(REQUEST_NOT_OPEN)
    return request


def _pair_lock(request: MentorRequest) -> None:
    """Lock the request's mentor and mentee (their enrolments), before the request itself."""
    pair = MentorRequest.objects.filter(pk=request.pk).values_list("mentor_id", "mentee_id")
    if not pair:  # replaced meanwhile by the mentee's new choice
        raise ValidationError(REQUEST_NOT_OPEN)
    enrolments_lock(pair[0])


def _requests_send_next_for(mentee_ids: Iterable[int], *, announce_none_left: bool = True) -> None:
    """After a transaction freed these mentees (a decline, an expiry, a mentor filling up), ask
    each one's next choice in a transaction of its own. A failure is logged, not raised: what
    the caller did is committed, and the expiry sweep sends the next choice later."""
    for mentee_id in mentee_ids:
        try:
            with transaction.atomic():
                mentee = Enrolment.objects.select_related("cohort__program", "user").get(
                    pk=mentee_id
                )
                _request_send_next(mentee=mentee, announce_none_left=announce_none_left)
        except Exception:
            logger.exception("could not ask the next choice of mentee %s", mentee_id)


def mentor_request_accept(*, request: MentorRequest, by_user: User) -> Relationship:
    """The mentor says yes: the pair's relationship starts and the mentee's other requests are
    withdrawn. If that filled the mentor, the other requests waiting on them are withdrawn
    and each of those mentees' next choice is asked (after this commits, one by one).

    Two acceptances at once for one mentor wait for each other at the mentor's lock; the
    second then finds its request withdrawn, or the mentor full: a message, never an error."""
    with transaction.atomic():
        _pair_lock(request)
        relationship, released = _mentor_request_accept(request, by_user)
    _requests_send_next_for(released)
    return relationship


def _mentor_request_accept(request: MentorRequest, by_user: User) -> tuple[Relationship, list[int]]:
    request = _request_open_for_mentor(request, by_user)
    block = selectors.self_service_block(cohort=request.cohort)
    if block is not None:
        raise ValidationError(CHOICE_BLOCK_MESSAGES[block])
    relationship = relationship_create(
        cohort=request.cohort, mentor=request.mentor, mentee=request.mentee, notify=False
    )
    request.status = MentorRequest.Status.ACCEPTED
    request.responded_at = timezone.now()
    request.relationship = relationship
    request.save(update_fields=["status", "responded_at", "relationship"])
    notify(
        kind=Notification.Kind.MENTOR_REQUEST_ACCEPTED,
        recipient=request.mentee.user,
        about=request,
        context={"request": request},
        url=reverse("goals:relationship_home", args=[relationship.pk]),
    )
    released = []
    if not mentor_has_place(request.mentor, request.cohort):
        released = _requests_release_full_mentor(request.mentor)
    return relationship, released


def _requests_release_full_mentor(mentor: Enrolment) -> list[int]:
    """A mentor's last place is taken: their other waiting requests cannot be accepted, so they
    are withdrawn; returns those mentees, whose next choice the caller asks once committed."""
    waiting = list(
        mentor.requests_received.filter(status__in=WAITING_STATUSES)
        .select_for_update()
        .order_by("pk")
    )
    for request in waiting:
        request.status = MentorRequest.Status.WITHDRAWN
        request.decline_reason = "The mentor had no place left."
        request.responded_at = timezone.now()
        request.save(update_fields=["status", "decline_reason", "responded_at"])
    return [request.mentee_id for request in waiting]


def mentor_request_decline(*, request: MentorRequest, by_user: User, reason: str) -> MentorRequest:
    """The mentor says no, with a reason the mentee reads; the mentee's next choice is asked
    once this commits."""
    if not reason.strip():
        raise ValidationError({"reason": DECLINE_NEEDS_REASON})
    with transaction.atomic():
        _pair_lock(request)
        request = _request_open_for_mentor(request, by_user)
        request.status = MentorRequest.Status.DECLINED
        request.decline_reason = reason.strip()
        request.responded_at = timezone.now()
        request.save(update_fields=["status", "decline_reason", "responded_at"])
        # The "declined" email already invites them to choose again if nothing else is waiting.
        _request_notify_mentee(Notification.Kind.MENTOR_REQUEST_DECLINED, request=request)
    _requests_send_next_for([request.mentee_id], announce_none_left=False)
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
    _request_notify_mentee(
        Notification.Kind.MENTOR_REQUEST_QUESTION, request=request, period=_question_round(request)
    )
    return request


@transaction.atomic
def mentor_request_answer(*, request: MentorRequest, by_user: User, answer: str) -> MentorRequest:
    request = (
        MentorRequest.objects.select_for_update(of=("self",))
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
    notify(
        kind=Notification.Kind.MENTOR_REQUEST_ANSWERED,
        recipient=request.mentor.user,
        about=request,
        context={"request": request},
        url=reverse("matching:request_inbox"),
        period=_question_round(request),
    )
    return request


@transaction.atomic
def mentor_request_withdraw(*, mentee: Enrolment) -> int:
    """The mentee takes back every open request, to choose again."""
    enrolments_lock([mentee.pk])
    return mentee.requests_made.filter(status__in=MentorRequest.OPEN_STATUSES).update(
        status=MentorRequest.Status.WITHDRAWN
    )


def mentor_request_expire_due() -> int:
    """Expire requests past their answer date and send each mentee's next choice. Each request
    is claimed with a conditional UPDATE (under its pair's lock), so two sweeps at once never
    double-send; a failure on one request is logged and the sweep goes on. Also sends the next
    choice of any mentee left with choices queued and none waiting (a next step that failed)."""
    expired = 0
    due = MentorRequest.objects.filter(
        status__in=WAITING_STATUSES, respond_by__lt=timezone.now()
    ).values_list("pk", "mentor_id", "mentee_id")
    for request_id, mentor_id, mentee_id in list(due):
        try:
            with transaction.atomic():
                enrolments_lock([mentor_id, mentee_id])
                claimed = MentorRequest.objects.filter(
                    pk=request_id, status__in=WAITING_STATUSES
                ).update(status=MentorRequest.Status.EXPIRED, responded_at=timezone.now())
                if not claimed:
                    continue
                request = MentorRequest.objects.select_related(
                    "mentee__cohort__program", "mentee__user", "mentor__user"
                ).get(pk=request_id)
                _request_notify_mentee(Notification.Kind.MENTOR_REQUEST_EXPIRED, request=request)
        except Exception:
            logger.exception("could not expire mentor request %s", request_id)
            continue
        _requests_send_next_for([mentee_id])
        expired += 1
    stalled = (
        MentorRequest.objects.filter(status=MentorRequest.Status.QUEUED)
        .exclude(
            mentee__in=MentorRequest.objects.filter(status__in=WAITING_STATUSES).values("mentee")
        )
        .order_by("mentee_id")
        .values_list("mentee_id", flat=True)
        .distinct()
    )
    _requests_send_next_for(list(stalled))
    return expired
