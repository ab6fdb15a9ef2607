"""Self-service: a mentee asks up to three mentors in turn; a mentor accepts, declines or asks
a question first; requests nobody answers expire and the next choice is asked."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
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
from .places import mentor_has_place, pair_problem, requests_close_for
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


@transaction.atomic
def mentor_request_create(
    *, mentee: Enrolment, mentors: list[Enrolment], note: str = ""
) -> list[MentorRequest]:
    """A mentee asks up to three mentors, best first. The first request goes out now; the
    others wait and go out in turn if it is declined or expires."""
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
    return requests


def _request_send_next(
    *, mentee: Enrolment, announce_none_left: bool = True
) -> MentorRequest | None:
    """Send the mentee's next waiting request to its mentor, skipping mentors who filled up
    meanwhile. Tells the mentee when none is left (unless the caller already has)."""
    cohort = mentee.cohort
    if selectors.active_relationship_of(enrolment=mentee):
        requests_close_for(mentee)
        return None
    days = selectors.matching_config_for(program=cohort.program).request_response_days
    for request in mentee.requests_made.filter(status=MentorRequest.Status.QUEUED).select_related(
        "mentor__user", "mentee__user"
    ):
        if not mentor_has_place(request.mentor, cohort):
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
    if not mentor_has_place(request.mentor, request.cohort):
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
    _request_notify_mentee(Notification.Kind.MENTOR_REQUEST_DECLINED, request=request)
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
    _request_notify_mentee(
        Notification.Kind.MENTOR_REQUEST_QUESTION, request=request, period=_question_round(request)
    )
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
                _request_notify_mentee(Notification.Kind.MENTOR_REQUEST_EXPIRED, request=request)
                _request_send_next(mentee=request.mentee)
                expired += 1
        except Exception:
            logger.exception("could not expire mentor request %s", request_id)
    return expired
