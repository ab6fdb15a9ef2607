"""Writes for cohorts: dates, the lifecycle, cloning, the application link and the
application and feedback questions."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import User
from accounts.services import submission_claim, submission_record
from common.unset import UNSET, Unset
from programs.models import (
    Cohort,
    CohortQuestion,
    Enrolment,
    EnrolmentCompetency,
    FeedbackQuestion,
    Program,
    new_token,
)
from programs.rules import (
    COHORT_CLONE_ONLY_CLOSED,
    COHORT_STARTS_LATER,
    cohort_default_ends_on,
    cohort_starts_later,
)
from programs.selectors import (
    cohort_transition_problem,
)


@transaction.atomic
def cohort_create(
    *,
    program: Program,
    name: str,
    starts_on: dt.date,
    ends_on: dt.date | None = None,
    enrolment_opens_on: dt.date | None = None,
    enrolment_closes_on: dt.date | None = None,
    created_by: User | None = None,
    submission_token: uuid.UUID | None = None,
) -> Cohort:
    """A draft cohort of `program`, ending `ends_on` or, without one, the program's length
    after `starts_on`. The same form sent twice makes one: `submission_token`, claimed for
    `created_by`, the person who sent it."""
    submission_claim(user=created_by, token=submission_token, model=Cohort)
    cohort = Cohort(
        program=program,
        name=name,
        starts_on=starts_on,
        ends_on=ends_on or cohort_default_ends_on(program=program, starts_on=starts_on),
        enrolment_opens_on=enrolment_opens_on,
        enrolment_closes_on=enrolment_closes_on,
    )
    _cohort_validate_dates(cohort)
    cohort.full_clean()
    cohort.save()
    submission_record(user=created_by, token=submission_token, created=cohort)
    return cohort


@transaction.atomic
def cohort_update(
    *,
    cohort: Cohort,
    name: str | Unset = UNSET,
    starts_on: dt.date | Unset = UNSET,
    ends_on: dt.date | Unset = UNSET,
    enrolment_opens_on: dt.date | Unset | None = UNSET,
    enrolment_closes_on: dt.date | Unset | None = UNSET,
) -> Cohort:
    """Change the cohort's name and dates; an argument left out keeps its value."""
    changes: dict[str, object] = {
        "name": name,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "enrolment_opens_on": enrolment_opens_on,
        "enrolment_closes_on": enrolment_closes_on,
    }
    for field_name, value in changes.items():
        if value is not UNSET:
            setattr(cohort, field_name, value)
    _cohort_validate_dates(cohort)
    cohort.full_clean()
    cohort.save()
    return cohort


def _cohort_validate_dates(cohort: Cohort) -> None:
    errors: dict[str, str] = {}
    if cohort.starts_on and cohort.ends_on and cohort.ends_on <= cohort.starts_on:
        errors["ends_on"] = "The cohort must end after it starts."
    opens, closes = cohort.enrolment_opens_on, cohort.enrolment_closes_on
    if opens and closes and closes < opens:
        errors["enrolment_closes_on"] = "Enrolment must close on or after the day it opens."
    if closes and cohort.starts_on and closes > cohort.starts_on:
        errors["enrolment_closes_on"] = "Enrolment must close by the day the cohort starts."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def cohort_transition(
    *, cohort: Cohort, to_status: str, confirm_early_start: bool = False
) -> Cohort:
    """Move a cohort one step along draft → enrolling → matching → active → closing → closed
    (enrolling and matching can also step back). Closing opens final feedback. Starting it
    (active) before its start date needs `confirm_early_start`; without it the refusal
    (code "starts_later") names the date."""
    cohort = Cohort.objects.select_for_update().select_related("program").get(pk=cohort.pk)
    problem = cohort_transition_problem(cohort=cohort, to_status=to_status)
    if problem:
        raise ValidationError(problem)
    starts_on = cohort_starts_later(cohort) if to_status == Cohort.Status.ACTIVE else None
    if starts_on is not None and not confirm_early_start:
        raise ValidationError(
            COHORT_STARTS_LATER.format(date=date_format(starts_on, "l j F Y")),
            code="starts_later",
        )
    cohort.status = to_status
    now = timezone.now()
    if to_status == Cohort.Status.CLOSING:
        cohort.final_feedback_opened_at = now
    if to_status == Cohort.Status.CLOSED:
        cohort.closed_at = now
    cohort.save(update_fields=["status", "final_feedback_opened_at", "closed_at", "updated_at"])
    return cohort


@transaction.atomic
def cohort_clone(
    *,
    cohort: Cohort,
    name: str,
    starts_on: dt.date,
    created_by: User | None = None,
    submission_token: uuid.UUID | None = None,
) -> Cohort:
    """Start the next run of a closed cohort: same length and enrolment window (shifted), the
    same application questions, and everyone who took part invited back in their role. The
    same form sent twice makes one clone (`submission_token`, claimed for `created_by`)."""
    submission_claim(user=created_by, token=submission_token, model=Cohort)
    if cohort.status != Cohort.Status.CLOSED:
        raise ValidationError(COHORT_CLONE_ONLY_CLOSED)
    shift = starts_on - cohort.starts_on

    def shifted(day: dt.date | None) -> dt.date | None:
        return day + shift if day else None

    clone = cohort_create(
        program=cohort.program,
        name=name,
        starts_on=starts_on,
        ends_on=cohort.ends_on + shift,
        enrolment_opens_on=shifted(cohort.enrolment_opens_on),
        enrolment_closes_on=shifted(cohort.enrolment_closes_on),
    )
    clone.cloned_from = cohort
    clone.save(update_fields=["cloned_from"])
    CohortQuestion.objects.bulk_create(
        CohortQuestion(
            cohort=clone,
            text=q.text,
            answer_kind=q.answer_kind,
            is_required=q.is_required,
            position=q.position,
        )
        for q in cohort.questions.all()
    )
    # In bulk (a statement per table, not per person): a cohort of thousands clones in a request.
    returning = list(
        cohort.enrolments.filter(status=Enrolment.Status.APPROVED).prefetch_related(
            "competency_links"
        )
    )
    new_enrolments = Enrolment.objects.bulk_create(
        Enrolment(
            cohort=clone,
            user_id=old.user_id,
            role=old.role,
            status=Enrolment.Status.INVITED,
            capacity=old.capacity,
            availability=old.availability,
            prefers_other_department=old.prefers_other_department,
            prefers_same_time_zone=old.prefers_same_time_zone,
        )
        for old in returning
    )
    EnrolmentCompetency.objects.bulk_create(
        EnrolmentCompetency(enrolment=new, competency_id=link.competency_id, kind=link.kind)
        for old, new in zip(returning, new_enrolments, strict=True)
        for link in old.competency_links.all()
    )
    submission_record(user=created_by, token=submission_token, created=clone)
    return clone


@transaction.atomic
def cohort_rotate_application_link(*, cohort: Cohort) -> Cohort:
    """Replace the public application link; the old one stops working at once."""
    cohort.application_token = new_token()
    cohort.save(update_fields=["application_token", "updated_at"])
    return cohort


@transaction.atomic
def cohort_question_set(
    *, cohort: Cohort, questions: list[dict[str, object]]
) -> list[CohortQuestion]:
    """Make the cohort's own application questions exactly `questions` (text, answer_kind,
    is_required, and `id` for one that already exists), in order. See `_questions_replace`."""
    return _questions_replace(
        existing=list(cohort.questions.all()),
        make=lambda: CohortQuestion(cohort=cohort),
        questions=questions,
    )


@transaction.atomic
def program_feedback_questions_set(
    *, program: Program, questions: list[dict[str, object]]
) -> list[FeedbackQuestion]:
    """Make the program's midpoint and final survey questions exactly `questions` (text,
    answer_kind, asked_of, visible_to, and `id` for one that already exists), in order."""
    return _questions_replace(
        existing=list(program.questions.all()),
        make=lambda: FeedbackQuestion(program=program),
        questions=questions,
    )


def _questions_replace(
    *,
    existing: list[CohortQuestion] | list[FeedbackQuestion],
    make: Callable[[], CohortQuestion | FeedbackQuestion],
    questions: list[dict[str, object]],
) -> list:
    """Replace an ordered list of questions in place. Answers are stored by question id, so a
    question given by `id`, or else with the same text as before, keeps its id (and its
    answers); questions left out are removed."""
    unclaimed = {q.pk: q for q in existing}
    saved = []
    for position, data in enumerate(questions):
        fields = {k: v for k, v in data.items() if k != "id"}
        given_id = data.get("id")
        question = unclaimed.pop(given_id, None) if isinstance(given_id, int) else None
        if question is None:
            question = next((q for q in unclaimed.values() if q.text == fields.get("text")), None)
            if question is not None:
                del unclaimed[question.pk]
        if question is None:
            question = make()
        for name, value in fields.items():
            setattr(question, name, value)
        question.position = position
        question.full_clean()
        question.save()
        saved.append(question)
    for question in unclaimed.values():
        question.delete()
    return saved
