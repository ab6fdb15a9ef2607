"""Writes for enrolments: coordinators deciding on people, participants applying, editing
and withdrawing, and their profile."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypedDict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Profile, User
from accounts.services import submission_claim, submission_record
from common.unset import UNSET, Unset
from programs.models import (
    Cohort,
    Enrolment,
    EnrolmentCompetency,
    Program,
)
from programs.rules import (
    APPLICATIONS_CLOSED,
    COORDINATOR_SETTABLE_STATUSES,
    ENROLMENT_ALREADY_EXISTS,
    ENROLMENT_STATUS_NOT_SETTABLE,
    EXTERNAL_ONLY_AS_MENTOR,
    ROLE_NOT_IN_PROGRAM,
    ROLE_UNKNOWN,
    program_roles,
)
from programs.selectors import (
    enrolment_edit_problem,
    enrolment_withdraw_problem,
)
from programs.services.vocabulary import competency_terms_resolve


class ProfileFields(TypedDict, total=False):
    """What a form may change of a person's profile (the arguments of `profile_update`)."""

    job_title: str
    department: str
    job_level: int | None
    location: str
    languages: list[str]
    bio: str


@dataclass
class StatusChangeResult:
    changed: int
    skipped_withdrawn: int


@transaction.atomic
def enrolment_set_status(
    *, cohort: Cohort, enrolment_ids: Iterable[int], status: str
) -> StatusChangeResult:
    """Approve, waitlist or decline enrolments of `cohort` in bulk. Ids from other cohorts are
    ignored; people who withdrew keep their own decision."""
    if status not in COORDINATOR_SETTABLE_STATUSES:
        raise ValidationError(ENROLMENT_STATUS_NOT_SETTABLE)
    selected = cohort.enrolments.filter(pk__in=list(enrolment_ids))
    withdrawn = selected.filter(status=Enrolment.Status.WITHDRAWN).count()
    changed = selected.exclude(status__in=[Enrolment.Status.WITHDRAWN, status]).update(
        status=status, status_changed_at=timezone.now(), updated_at=timezone.now()
    )
    return StatusChangeResult(changed=changed, skipped_withdrawn=withdrawn)


@dataclass(frozen=True)
class EnrolmentDetails:
    """What a participant tells the cohort about themselves this time."""

    development_goals: str = ""
    hopes: str = ""
    availability: str = ""
    capacity: int | None = None
    prefers_other_department: bool = False
    prefers_same_time_zone: bool = False
    develop: tuple[str, ...] = ()
    seek: tuple[str, ...] = ()
    offer: tuple[str, ...] = ()
    expertise: tuple[str, ...] = ()
    application_answers: dict[str, str] = field(default_factory=dict)


def _enrolment_apply_details(
    enrolment: Enrolment, details: EnrolmentDetails, *, suggested_by: User | None
) -> None:
    enrolment.development_goals = details.development_goals.strip()
    enrolment.hopes = details.hopes.strip()
    enrolment.availability = details.availability.strip()
    enrolment.prefers_other_department = details.prefers_other_department
    enrolment.prefers_same_time_zone = details.prefers_same_time_zone
    if details.application_answers:
        enrolment.application_answers = dict(details.application_answers)
    if enrolment.role == Enrolment.Role.MENTEE:
        enrolment.capacity = None
    elif details.capacity is not None:
        enrolment.capacity = details.capacity
    elif enrolment.capacity is None:
        enrolment.capacity = enrolment.cohort.program.default_mentor_capacity
    enrolment.full_clean()
    enrolment.save()
    links = []
    for kind in EnrolmentCompetency.Kind.values:
        terms = getattr(details, kind)
        for competency in competency_terms_resolve(terms=terms, suggested_by=suggested_by):
            links.append(EnrolmentCompetency(enrolment=enrolment, competency=competency, kind=kind))
    enrolment.competency_links.all().delete()
    EnrolmentCompetency.objects.bulk_create(links, ignore_conflicts=True)


@transaction.atomic
def enrolment_apply(
    *,
    cohort: Cohort,
    user: User,
    role: str,
    details: EnrolmentDetails,
    profile_fields: ProfileFields | None = None,
    submission_token: uuid.UUID | None = None,
) -> Enrolment:
    """A person applies through the cohort's public link, updating their profile in the same
    step when `profile_fields` are given (nothing is saved if either part is invalid). A person
    who withdrew may apply again; anyone else already in the cohort is told so (the same
    application sent twice raises AlreadySubmittedError with the enrolment it made)."""
    submission_claim(user=user, token=submission_token, model=Enrolment)
    cohort = Cohort.objects.select_related("program").get(pk=cohort.pk)
    if profile_fields:
        profile_update(user=user, **profile_fields)
    if not cohort.enrolment_window_is_open:
        raise ValidationError(APPLICATIONS_CLOSED)
    _validate_role(cohort.program, user, role)
    enrolment = Enrolment.objects.filter(cohort=cohort, user=user).first()
    if enrolment and enrolment.status != Enrolment.Status.WITHDRAWN:
        raise ValidationError(ENROLMENT_ALREADY_EXISTS)
    if enrolment is None:
        enrolment = Enrolment(cohort=cohort, user=user)
    enrolment.role = role
    enrolment.status = Enrolment.Status.APPLIED
    enrolment.status_changed_at = timezone.now()
    enrolment.withdrawal_reason = ""
    _enrolment_apply_details(enrolment, details, suggested_by=user)
    submission_record(user=user, token=submission_token, created=enrolment)
    return enrolment


def _validate_role(program: Program, user: User, role: str) -> None:
    if role not in Enrolment.Role.values:
        raise ValidationError({"role": ROLE_UNKNOWN})
    if role not in program_roles(program):
        raise ValidationError(
            {"role": ROLE_NOT_IN_PROGRAM.format(role=Enrolment.Role(role).label.lower())}
        )
    profile = Profile.objects.filter(user=user).first()
    if (
        profile
        and profile.is_external
        and (role != Enrolment.Role.MENTOR or not program.allows_external_mentors)
    ):
        raise ValidationError(EXTERNAL_ONLY_AS_MENTOR)


@transaction.atomic
def enrolment_update_details(*, enrolment: Enrolment, details: EnrolmentDetails) -> Enrolment:
    """The participant edits what they told the cohort."""
    problem = enrolment_edit_problem(enrolment=enrolment)
    if problem:
        raise ValidationError(problem)
    _enrolment_apply_details(enrolment, details, suggested_by=enrolment.user)
    return enrolment


@transaction.atomic
def enrolment_withdraw(*, enrolment: Enrolment, reason: str = "") -> Enrolment:
    problem = enrolment_withdraw_problem(enrolment=enrolment)
    if problem:
        raise ValidationError(problem)
    enrolment.status = Enrolment.Status.WITHDRAWN
    enrolment.withdrawal_reason = reason.strip()[:300]
    enrolment.status_changed_at = timezone.now()
    enrolment.save(update_fields=["status", "withdrawal_reason", "status_changed_at", "updated_at"])
    return enrolment


@transaction.atomic
def profile_update(
    *,
    user: User,
    job_title: str | Unset = UNSET,
    department: str | Unset = UNSET,
    job_level: int | Unset | None = UNSET,
    location: str | Unset = UNSET,
    languages: list[str] | Unset = UNSET,
    bio: str | Unset = UNSET,
) -> Profile:
    """Change what `user` says about their work, making their profile when they have none; an
    argument left out keeps its value."""
    profile, _ = Profile.objects.get_or_create(user=user)
    changes: dict[str, object] = {
        "job_title": job_title,
        "department": department,
        "job_level": job_level,
        "location": location,
        "languages": languages,
        "bio": bio,
    }
    for name, value in changes.items():
        if value is not UNSET:
            setattr(profile, name, value)
    profile.full_clean()
    profile.save()
    return profile
