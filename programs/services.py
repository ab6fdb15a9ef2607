"""Every write for programs, cohorts, enrolments, the vocabulary, invitations and imports.

Keyword-only functions, one transaction each, `full_clean()` before saving. Problems a person can
fix raise `ValidationError` with a plain message (the constants below, so tests assert on them);
emails are queued to leave after the commit.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile, User
from notifications.email import email_render
from notifications.services import email_queue

from . import imports
from .models import (
    COORDINATORS_GROUP,
    COORDINATORS_GROUP_PERMISSIONS,
    Cohort,
    CohortQuestion,
    Competency,
    CompetencySynonym,
    Enrolment,
    EnrolmentCompetency,
    FeedbackQuestion,
    Invitation,
    ParticipantImport,
    Program,
)

# --- Messages people see (tests assert on these).
COHORT_TRANSITION_NOT_ALLOWED = "A cohort cannot go from {current} to {target}."
COHORT_NEEDS_MENTORS_AND_MENTEES = (
    "Approve at least one mentor and one mentee before matching starts."
)
COHORT_NEEDS_TWO_PEERS = "Approve at least two peers before matching starts."
COHORT_NEEDS_PUBLISHED_MATCHES = "Publish the cohort's matches before it becomes active."
COHORT_REOPEN_AFTER_PUBLISHING = "Matches are published: enrolment cannot reopen."
COHORT_CLONE_ONLY_CLOSED = "Only a closed cohort can be cloned into the next one."
PROGRAM_KIND_FIXED = (
    "The kind of program cannot change once a cohort has opened: start a new program instead."
)
PROGRAM_NEEDS_A_COORDINATOR = "A program needs at least one coordinator."
NO_ACCOUNT_WITH_EMAIL = "Nobody has an account with {email} yet: ask them to sign up first."
ENROLMENT_STATUS_NOT_SETTABLE = "Coordinators can approve, waitlist or decline, nothing else."
ENROLMENT_WITHDRAWN_IS_FINAL = "{count} withdrew and cannot be changed; the others were updated."
ENROLMENT_ALREADY_EXISTS = "You already have a place in this cohort: see your enrolment."
APPLICATIONS_CLOSED = "Applications for this cohort are closed."
ROLE_NOT_IN_PROGRAM = "This program does not take {role}s."
EXTERNAL_ONLY_AS_MENTOR = "External people join as mentors, in programs that allow them."
INVITATION_USED = "This invitation has already been used."
INVITATION_EXPIRED = "This invitation has expired."
INVITATION_FOR_SOMEONE_ELSE = "This invitation was sent to {email}; sign in as that person."
EXTERNAL_NOT_ALLOWED = "This program does not take mentors from outside the organisation."
IMPORT_HAS_ERRORS = "Nothing was imported: fix the rows listed below and upload the file again."
IMPORT_ALREADY_DONE = "This file was already imported."
IMPORT_MISSING_COLUMNS = "Nothing was imported: map a column to {fields} first."
IMPORT_COHORT_CLOSED = "This cohort is closing or closed: people can no longer be imported into it."
COMPETENCY_MERGE_INTO_ITSELF = "Choose a different term to merge into."
WITHDRAW_ONLY_OPEN = "You can only withdraw before the cohort starts closing."
ENROLMENT_EDIT_CLOSED = "This cohort is closed: your details can no longer change."
ROLE_UNKNOWN = "Choose mentor, mentee or peer."
INVITATION_COHORT_CLOSED = "This cohort is closing or closed, so the invitation can't be used."

# The lifecycle, with what each step means for the coordinator.
COHORT_NEXT_STATUSES: dict[str, tuple[str, ...]] = {
    Cohort.Status.DRAFT: (Cohort.Status.ENROLLING,),
    Cohort.Status.ENROLLING: (Cohort.Status.MATCHING, Cohort.Status.DRAFT),
    Cohort.Status.MATCHING: (Cohort.Status.ACTIVE, Cohort.Status.ENROLLING),
    Cohort.Status.ACTIVE: (Cohort.Status.CLOSING,),
    Cohort.Status.CLOSING: (Cohort.Status.CLOSED,),
    Cohort.Status.CLOSED: (),
}
COORDINATOR_SETTABLE_STATUSES = (
    Enrolment.Status.APPROVED,
    Enrolment.Status.WAITLISTED,
    Enrolment.Status.DECLINED,
)
PROGRAM_SETTINGS_FIELDS = (
    "name",
    "description",
    "kind",
    "meeting_cadence_days",
    "length_weeks",
    "default_mentor_capacity",
    "circle_size",
    "mentors_per_circle",
    "mentees_may_request",
    "allows_external_mentors",
    "agreement_template",
)


def program_roles(program: Program) -> frozenset[str]:
    if program.kind == Program.Kind.PEER:
        return frozenset({Enrolment.Role.PEER})
    return frozenset({Enrolment.Role.MENTOR, Enrolment.Role.MENTEE})


# --- Programs -------------------------------------------------------------------------------


def coordinators_group_ensure() -> Group:
    """The group whose members may create programs and manage the vocabulary. Migration 0002
    makes it; this restores it where the database was emptied since (demo data, tests)."""
    group, _ = Group.objects.get_or_create(name=COORDINATORS_GROUP)
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="programs", codename__in=COORDINATORS_GROUP_PERMISSIONS
        )
    )
    return group


@transaction.atomic
def program_create(*, created_by: User, **settings: object) -> Program:
    """Create a program; its creator becomes its first coordinator."""
    program = Program(**{k: v for k, v in settings.items() if k in PROGRAM_SETTINGS_FIELDS})
    program.full_clean()
    program.save()
    program.coordinators.add(created_by)
    return program


def program_kind_is_fixed(*, program: Program) -> bool:
    """Matching and relationships depend on the kind; once people have been let in, it stays."""
    return program.pk is not None and program.cohorts.exclude(status=Cohort.Status.DRAFT).exists()


@transaction.atomic
def program_update(*, program: Program, **settings: object) -> Program:
    new_kind = settings.get("kind", program.kind)
    if new_kind != program.kind and program_kind_is_fixed(program=program):
        raise ValidationError({"kind": PROGRAM_KIND_FIXED})
    for name, value in settings.items():
        if name in PROGRAM_SETTINGS_FIELDS:
            setattr(program, name, value)
    program.full_clean()
    program.save()
    return program


@transaction.atomic
def program_add_coordinator(*, program: Program, email: str) -> User:
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        raise ValidationError(NO_ACCOUNT_WITH_EMAIL.format(email=email.strip()))
    program.coordinators.add(user)
    return user


@transaction.atomic
def program_remove_coordinator(*, program: Program, user: User) -> None:
    if program.coordinators.exclude(pk=user.pk).count() == 0:
        raise ValidationError(PROGRAM_NEEDS_A_COORDINATOR)
    program.coordinators.remove(user)


# --- Cohorts --------------------------------------------------------------------------------


@transaction.atomic
def cohort_create(
    *,
    program: Program,
    name: str,
    starts_on: dt.date,
    ends_on: dt.date,
    enrolment_opens_on: dt.date | None = None,
    enrolment_closes_on: dt.date | None = None,
) -> Cohort:
    cohort = Cohort(
        program=program,
        name=name,
        starts_on=starts_on,
        ends_on=ends_on,
        enrolment_opens_on=enrolment_opens_on,
        enrolment_closes_on=enrolment_closes_on,
    )
    _cohort_validate_dates(cohort)
    cohort.full_clean()
    cohort.save()
    return cohort


@transaction.atomic
def cohort_update(*, cohort: Cohort, **fields: object) -> Cohort:
    for name in ("name", "starts_on", "ends_on", "enrolment_opens_on", "enrolment_closes_on"):
        if name in fields:
            setattr(cohort, name, fields[name])
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


def cohort_transition_problem(*, cohort: Cohort, to_status: str) -> str | None:
    """Why `cohort` cannot move to `to_status` now, or None when it can. Shared by the service
    (which refuses) and the dashboard (which explains the next step before it is tried)."""
    from matching.selectors import cohort_has_published_matches

    if to_status not in COHORT_NEXT_STATUSES[cohort.status]:
        target = dict(Cohort.Status.choices).get(to_status, to_status)
        return COHORT_TRANSITION_NOT_ALLOWED.format(
            current=cohort.get_status_display().lower(), target=str(target).lower()
        )
    if to_status == Cohort.Status.MATCHING:
        approved = cohort.enrolments.filter(status=Enrolment.Status.APPROVED)
        if cohort.program.kind == Program.Kind.PEER:
            if approved.filter(role=Enrolment.Role.PEER).count() < 2:
                return COHORT_NEEDS_TWO_PEERS
        elif not (
            approved.filter(role=Enrolment.Role.MENTOR).exists()
            and approved.filter(role=Enrolment.Role.MENTEE).exists()
        ):
            return COHORT_NEEDS_MENTORS_AND_MENTEES
    if to_status == Cohort.Status.ACTIVE and not cohort_has_published_matches(cohort=cohort):
        return COHORT_NEEDS_PUBLISHED_MATCHES
    if (
        cohort.status == Cohort.Status.MATCHING
        and to_status == Cohort.Status.ENROLLING
        and cohort_has_published_matches(cohort=cohort)
    ):
        return COHORT_REOPEN_AFTER_PUBLISHING
    return None


@transaction.atomic
def cohort_transition(*, cohort: Cohort, to_status: str) -> Cohort:
    """Move a cohort one step along draft → enrolling → matching → active → closing → closed
    (enrolling and matching can also step back). Closing opens final feedback."""
    cohort = Cohort.objects.select_for_update().select_related("program").get(pk=cohort.pk)
    problem = cohort_transition_problem(cohort=cohort, to_status=to_status)
    if problem:
        raise ValidationError(problem)
    cohort.status = to_status
    now = timezone.now()
    if to_status == Cohort.Status.CLOSING:
        cohort.final_feedback_opened_at = now
    if to_status == Cohort.Status.CLOSED:
        cohort.closed_at = now
    cohort.save(update_fields=["status", "final_feedback_opened_at", "closed_at", "updated_at"])
    return cohort


@transaction.atomic
def cohort_clone(*, cohort: Cohort, name: str, starts_on: dt.date) -> Cohort:
    """Start the next run of a closed cohort: same length and enrolment window (shifted), the
    same application questions, and everyone who took part invited back in their role."""
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
    returning = cohort.enrolments.filter(status=Enrolment.Status.APPROVED).prefetch_related(
        "competency_links"
    )
    for old in returning:
        new = Enrolment.objects.create(
            cohort=clone,
            user_id=old.user_id,
            role=old.role,
            status=Enrolment.Status.INVITED,
            capacity=old.capacity,
            availability=old.availability,
            prefers_other_department=old.prefers_other_department,
            prefers_same_time_zone=old.prefers_same_time_zone,
        )
        EnrolmentCompetency.objects.bulk_create(
            EnrolmentCompetency(enrolment=new, competency_id=link.competency_id, kind=link.kind)
            for link in old.competency_links.all()
        )
    return clone


@transaction.atomic
def cohort_rotate_application_link(*, cohort: Cohort) -> Cohort:
    """Replace the public application link; the old one stops working at once."""
    from .models import new_token

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
        question = unclaimed.pop(data.get("id"), None) if data.get("id") else None
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


# --- Enrolments -----------------------------------------------------------------------------


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
    profile_fields: dict[str, object] | None = None,
) -> Enrolment:
    """A person applies through the cohort's public link, updating their profile in the same
    step when `profile_fields` are given (nothing is saved if either part is invalid). A person
    who withdrew may apply again; anyone else already in the cohort is told so."""
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


def enrolment_edit_problem(*, enrolment: Enrolment) -> str | None:
    """Why the participant cannot change their details now, or None."""
    if enrolment.status == Enrolment.Status.WITHDRAWN:
        return "You withdrew from this cohort: apply again to take part."
    if enrolment.cohort.status == Cohort.Status.CLOSED:
        return ENROLMENT_EDIT_CLOSED
    return None


def enrolment_withdraw_problem(*, enrolment: Enrolment) -> str | None:
    """Why the participant cannot withdraw now, or None."""
    if enrolment.status == Enrolment.Status.WITHDRAWN:
        return "You have already withdrawn."
    if enrolment.cohort.status in (Cohort.Status.CLOSING, Cohort.Status.CLOSED):
        return WITHDRAW_ONLY_OPEN
    return None


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
def profile_update(*, user: User, **fields: object) -> Profile:
    profile, _ = Profile.objects.get_or_create(user=user)
    for name in ("job_title", "department", "job_level", "location", "languages", "bio"):
        if name in fields:
            setattr(profile, name, fields[name])
    profile.full_clean()
    profile.save()
    return profile


# --- Vocabulary -----------------------------------------------------------------------------


def _normal_term(term: str) -> str:
    return " ".join(term.split())[:100]


def _unique_terms(terms: Iterable[str]) -> list[str]:
    """Terms as typed, spaces tidied, each once (first spelling wins, case ignored)."""
    unique, seen = [], set()
    for term in terms:
        clean = _normal_term(term)
        if clean and clean.lower() not in seen:
            seen.add(clean.lower())
            unique.append(clean)
    return unique


def competency_terms_resolve(
    *, terms: Iterable[str], suggested_by: User | None
) -> list[Competency]:
    """Turn what people typed into vocabulary terms: an existing name or synonym (any case)
    wins; anything new becomes a suggestion for coordinators to approve or merge."""
    wanted = _unique_terms(terms)
    if not wanted:
        return []
    lowered = [t.lower() for t in wanted]
    by_name = {
        c.name.lower(): c
        for c in Competency.objects.annotate(lower_name=Lower("name")).filter(
            lower_name__in=lowered
        )
    }
    by_synonym = {
        s.name.lower(): s.competency
        for s in CompetencySynonym.objects.annotate(lower_name=Lower("name"))
        .filter(lower_name__in=lowered)
        .select_related("competency")
    }
    known = {**by_synonym, **by_name}
    new_terms = [term for term in wanted if term.lower() not in known]
    if new_terms:
        # ignore_conflicts: someone else may suggest the same term at the same moment.
        Competency.objects.bulk_create(
            [
                Competency(name=term, status=Competency.Status.SUGGESTED, suggested_by=suggested_by)
                for term in new_terms
            ],
            ignore_conflicts=True,
        )
        for competency in Competency.objects.annotate(lower_name=Lower("name")).filter(
            lower_name__in=[t.lower() for t in new_terms]
        ):
            known[competency.name.lower()] = competency
    return [known[term.lower()] for term in wanted]


@transaction.atomic
def competency_approve(*, competency: Competency) -> Competency:
    competency.status = Competency.Status.APPROVED
    competency.save(update_fields=["status"])
    return competency


@transaction.atomic
def competency_merge(*, source: Competency, target: Competency) -> Competency:
    """Fold a duplicate into `target`: every use of `source` now points at `target`, and its
    name (and synonyms) become synonyms of `target`, so people who type it still land right."""
    if source.pk == target.pk:
        raise ValidationError(COMPETENCY_MERGE_INTO_ITSELF)
    existing = set(
        EnrolmentCompetency.objects.filter(competency=target).values_list("enrolment_id", "kind")
    )
    for link in EnrolmentCompetency.objects.filter(competency=source):
        if (link.enrolment_id, link.kind) in existing:
            link.delete()
        else:
            link.competency = target
            link.save(update_fields=["competency"])
    CompetencySynonym.objects.filter(competency=source).update(competency=target)
    name = source.name
    source.delete()
    if not CompetencySynonym.objects.filter(name__iexact=name).exists():
        CompetencySynonym.objects.create(competency=target, name=name)
    if target.status != Competency.Status.APPROVED:
        competency_approve(competency=target)
    return target


# --- Invitations ----------------------------------------------------------------------------


@transaction.atomic
def invitation_create(
    *, cohort: Cohort, email: str, role: str, invited_by: User, is_external: bool = False
) -> Invitation:
    """Invite one person by email. Earlier unused invitations for the same address and cohort
    stop working, so only the newest link is live."""
    email = email.strip().lower()
    if role not in Enrolment.Role.values:
        raise ValidationError({"role": ROLE_UNKNOWN})
    if role not in program_roles(cohort.program):
        raise ValidationError(
            {"role": ROLE_NOT_IN_PROGRAM.format(role=Enrolment.Role(role).label.lower())}
        )
    if is_external and (
        role != Enrolment.Role.MENTOR or not cohort.program.allows_external_mentors
    ):
        raise ValidationError(EXTERNAL_NOT_ALLOWED)
    now = timezone.now()
    Invitation.objects.filter(cohort=cohort, email=email, accepted_at__isnull=True).update(
        expires_at=now
    )
    invitation = Invitation(
        cohort=cohort, email=email, role=role, is_external=is_external, invited_by=invited_by
    )
    invitation.full_clean()
    invitation.save()
    rendered = email_render(
        name="invitation",
        context={
            "invitation": invitation,
            "cohort": cohort,
            "program": cohort.program,
            "inviter": invited_by,
            "accept_path": reverse("programs:invitation_accept", args=[invitation.token]),
        },
    )
    email_queue(
        to=[email],
        subject=rendered.subject,
        text_body=rendered.text_body,
        html_body=rendered.html_body,
    )
    return invitation


@dataclass
class InvitationBatchResult:
    sent: list[Invitation]
    refused: dict[str, str]  # address → why


def invitation_create_many(
    *,
    cohort: Cohort,
    emails: Iterable[str],
    role: str,
    invited_by: User,
    is_external: bool = False,
) -> InvitationBatchResult:
    """Invite several people at once. Each address is its own transaction: one bad address
    does not stop the others, and the result says which were refused and why."""
    result = InvitationBatchResult(sent=[], refused={})
    seen: set[str] = set()
    for raw in emails:
        email = raw.strip().lower()
        if not email or email in seen:
            continue
        seen.add(email)
        try:
            result.sent.append(
                invitation_create(
                    cohort=cohort,
                    email=email,
                    role=role,
                    invited_by=invited_by,
                    is_external=is_external,
                )
            )
        except ValidationError as error:
            result.refused[email] = "; ".join(error.messages)
    return result


def invitation_problem(*, invitation: Invitation) -> str | None:
    if invitation.is_used:
        return INVITATION_USED
    if invitation.is_expired:
        return INVITATION_EXPIRED
    return None


@transaction.atomic
def invitation_accept(
    *,
    invitation: Invitation,
    user: User | None,
    display_name: str = "",
    password: str = "",
) -> tuple[User, Enrolment]:
    """Use an invitation. A signed-in person must be the one invited; someone without an
    account (or imported without a password) sets their name and password here, which also
    proves they own the address.

    The invitation is the coordinator's decision, so the person's place is approved in the
    invited role, whatever their enrolment said before. Only an account made here is marked
    external: an existing colleague invited as "external" by mistake keeps their access."""
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("cohort__program")
        .get(pk=invitation.pk)
    )
    problem = invitation_problem(invitation=invitation)
    if problem:
        raise ValidationError(problem)
    cohort = invitation.cohort
    if cohort.status in (Cohort.Status.CLOSING, Cohort.Status.CLOSED):
        raise ValidationError(INVITATION_COHORT_CLOSED)
    if user is not None and user.email.lower() != invitation.email:
        raise ValidationError(INVITATION_FOR_SOMEONE_ELSE.format(email=invitation.email))
    if user is None:
        user = _claim_account(invitation.email, display_name=display_name, password=password)
        if invitation.is_external:
            profile, _ = Profile.objects.get_or_create(user=user)
            profile.is_external = True
            profile.save(update_fields=["is_external", "updated_at"])
    enrolment = Enrolment.objects.filter(cohort=cohort, user=user).first() or Enrolment(
        cohort=cohort, user=user
    )
    enrolment.role = invitation.role
    enrolment.status = Enrolment.Status.APPROVED
    enrolment.status_changed_at = timezone.now()
    enrolment.withdrawal_reason = ""
    if enrolment.role == Enrolment.Role.MENTEE:
        enrolment.capacity = None
    elif enrolment.capacity is None:
        enrolment.capacity = cohort.program.default_mentor_capacity
    enrolment.full_clean()
    enrolment.save()
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return user, enrolment


def _claim_account(email: str, *, display_name: str, password: str) -> User:
    from allauth.account.models import EmailAddress
    from django.contrib.auth.password_validation import validate_password

    user = User.objects.filter(email__iexact=email).first()
    if user is not None and user.has_usable_password():
        raise ValidationError(INVITATION_FOR_SOMEONE_ELSE.format(email=email))
    errors: dict[str, list[str]] = {}
    if not display_name.strip():
        errors["display_name"] = ["Tell us your name so your partner knows you."]
    try:
        validate_password(password, user)
    except ValidationError as error:
        errors["password"] = list(error.messages)
    if errors:
        raise ValidationError(errors)
    if user is None:
        user = User(email=email)
    user.display_name = display_name.strip()
    user.password = make_password(password)
    user.full_clean()
    user.save()
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


@transaction.atomic
def invitation_request_renewal(*, invitation: Invitation) -> Invitation:
    """Someone holding a dead link asks for a new one: the coordinators are told by email.
    Asking twice sends one email."""
    claimed = Invitation.objects.filter(pk=invitation.pk, renewal_requested_at__isnull=True).update(
        renewal_requested_at=timezone.now()
    )
    invitation.refresh_from_db()
    if not claimed:
        return invitation
    coordinators = list(invitation.cohort.program.coordinators.values_list("email", flat=True))
    if coordinators:
        rendered = email_render(
            name="invitation-renewal-request",
            context={"invitation": invitation, "cohort": invitation.cohort},
        )
        email_queue(
            to=coordinators,
            subject=rendered.subject,
            text_body=rendered.text_body,
            html_body=rendered.html_body,
        )
    return invitation


# --- Import ---------------------------------------------------------------------------------


@transaction.atomic
def participant_import_create(
    *, cohort: Cohort, uploaded_by: User, filename: str, content: bytes
) -> ParticipantImport:
    """Read an uploaded file and keep its table for mapping and preview. Whole-file problems
    (format, size, no header) raise ValidationError with the reader's message."""
    _import_check_cohort_open(cohort)
    try:
        table = imports.table_read(filename=filename, content=content)
    except imports.ImportFileError as error:
        raise ValidationError(str(error)) from None
    return ParticipantImport.objects.create(
        cohort=cohort,
        uploaded_by=uploaded_by,
        filename=filename[:255],
        headers=table.headers,
        rows=[[line, cells] for line, cells in table.rows],
        mapping={str(i): name for i, name in imports.mapping_guess(table.headers).items()},
    )


def participant_import_preview(
    *, participant_import: ParticipantImport, fill_default_capacity: bool = True
) -> imports.ImportPreview:
    """Validate the stored table under the current mapping. The preview shows new mentors with
    the program's default capacity; the import itself passes False so a blank cell leaves an
    existing mentor's capacity alone."""
    table = imports.Table(
        headers=participant_import.headers,
        rows=[(line, cells) for line, cells in participant_import.rows],
    )
    program = participant_import.cohort.program
    return imports.rows_validate(
        table=table,
        mapping={int(i): name for i, name in participant_import.mapping.items()},
        allowed_roles=program_roles(program),
        default_capacity=program.default_mentor_capacity if fill_default_capacity else None,
    )


@transaction.atomic
def participant_import_set_mapping(
    *, participant_import: ParticipantImport, mapping: dict[int, str]
) -> ParticipantImport:
    if participant_import.status == ParticipantImport.Status.IMPORTED:
        raise ValidationError(IMPORT_ALREADY_DONE)
    valid = set(imports.FIELDS)
    used: set[str] = set()
    clean: dict[str, str] = {}
    for index, name in sorted(mapping.items()):
        if not name:
            continue
        if name not in valid:
            raise ValidationError(f"“{name}” is not a field participants can be imported into.")
        if name in used:
            raise ValidationError(f"Two columns are mapped to “{imports.FIELDS[name].label}”.")
        if not 0 <= index < len(participant_import.headers):
            raise ValidationError("The mapping names a column the file does not have.")
        used.add(name)
        clean[str(index)] = name
    participant_import.mapping = clean
    participant_import.save(update_fields=["mapping"])
    return participant_import


@dataclass
class ImportResult:
    created_people: int
    enrolled: int
    updated: int


@transaction.atomic
def participant_import_run(*, participant_import: ParticipantImport) -> ImportResult:
    """Import every row or none. New people get an account without a password (an invitation
    lets them set one); existing profiles are only filled where empty, never overwritten, since
    people keep their own profile. For people already in the cohort, only what the file has a
    column for is updated: a file without a "Hopes" column leaves their hopes alone.

    Every row has passed `imports.rows_validate`, which is this path's validation; the writes
    are done in bulk (a query per table, not per row) so a 5,000-row file fits in a request.
    `participant_import` is refreshed in place."""
    locked = ParticipantImport.objects.select_for_update().select_related("cohort__program")
    locked = locked.get(pk=participant_import.pk)
    if locked.status == ParticipantImport.Status.IMPORTED:
        raise ValidationError(IMPORT_ALREADY_DONE)
    cohort = locked.cohort
    _import_check_cohort_open(cohort)
    preview = participant_import_preview(participant_import=locked, fill_default_capacity=False)
    if preview.missing_required:
        labels = " and ".join(f"“{imports.FIELDS[f].label}”" for f in preview.missing_required)
        raise ValidationError(IMPORT_MISSING_COLUMNS.format(fields=labels))
    if not preview.ok:
        raise ValidationError(IMPORT_HAS_ERRORS)
    rows = preview.rows
    mapped = set(locked.mapping.values())
    now = timezone.now()

    users, created_people = _import_users(rows)
    _import_profiles(rows, users, now=now)

    existing = {e.user_id: e for e in cohort.enrolments.filter(user__in=users.values())}
    new_enrolments, updated_enrolments = [], []
    enrolment_by_email: dict[str, Enrolment] = {}
    for row in rows:
        user = users[row.email]
        enrolment = existing.get(user.pk)
        if enrolment is None:
            enrolment = Enrolment(
                cohort=cohort, user=user, role=row.role, status=Enrolment.Status.INVITED
            )
            new_enrolments.append(enrolment)
        else:
            updated_enrolments.append(enrolment)
        _import_enrolment_fields(
            enrolment,
            row,
            mapped=mapped,
            is_new=enrolment.pk is None,
            default_capacity=cohort.program.default_mentor_capacity,
        )
        enrolment.updated_at = now  # bulk_update does not apply auto_now
        enrolment_by_email[row.email] = enrolment
    Enrolment.objects.bulk_create(new_enrolments)
    Enrolment.objects.bulk_update(updated_enrolments, [*IMPORT_ENROLMENT_FIELDS, "updated_at"])
    _import_competency_links(
        rows,
        enrolment_by_email,
        kinds=[kind for kind in EnrolmentCompetency.Kind.values if kind in mapped],
        suggested_by=locked.uploaded_by,
    )

    locked.status = ParticipantImport.Status.IMPORTED
    locked.imported_count = len(rows)
    locked.created_people = created_people
    locked.enrolled_count = len(new_enrolments)
    locked.updated_count = len(updated_enrolments)
    locked.imported_at = now
    locked.save()
    participant_import.refresh_from_db()
    return ImportResult(
        created_people=created_people,
        enrolled=len(new_enrolments),
        updated=len(updated_enrolments),
    )


IMPORT_ENROLMENT_FIELDS = ("role", "development_goals", "hopes", "availability", "capacity")


def _import_enrolment_fields(
    enrolment: Enrolment,
    row: imports.ParticipantRow,
    *,
    mapped: set[str],
    is_new: bool,
    default_capacity: int,
) -> None:
    """Copy the row onto the enrolment: everything for a new one, only mapped columns (and
    non-blank capacities) for one that exists."""
    for name in ("role", "development_goals", "hopes", "availability"):
        if is_new or name in mapped:
            setattr(enrolment, name, getattr(row, name))
    if enrolment.role == Enrolment.Role.MENTEE:
        enrolment.capacity = None
    elif row.capacity is not None:
        enrolment.capacity = row.capacity
    elif enrolment.capacity is None:
        enrolment.capacity = default_capacity


def _import_check_cohort_open(cohort: Cohort) -> None:
    if cohort.status in (Cohort.Status.CLOSING, Cohort.Status.CLOSED):
        raise ValidationError(IMPORT_COHORT_CLOSED)


def _import_users(rows: list[imports.ParticipantRow]) -> tuple[dict[str, User], int]:
    """Everyone the file names (participants and their managers) by email, creating accounts
    without a password for participants who have none yet; also returns how many were new."""
    emails = {row.email for row in rows} | {row.manager_email for row in rows if row.manager_email}
    found = User.objects.annotate(lower_email=Lower("email")).filter(lower_email__in=emails)
    users = {u.email.lower(): u for u in found}
    unusable = make_password(None)
    new_users = []
    for row in rows:
        if row.email in users:
            continue
        user = User(
            email=row.email,
            display_name=row.display_name,
            time_zone=row.time_zone or "UTC",
            password=unusable,
        )
        users[row.email] = user
        new_users.append(user)
    User.objects.bulk_create(new_users)
    return users, len(new_users)


def _import_profiles(
    rows: list[imports.ParticipantRow], users: dict[str, User], *, now: dt.datetime
) -> None:
    participants = [users[row.email] for row in rows]
    profiles = {p.user_id: p for p in Profile.objects.filter(user__in=participants)}
    new_profiles, changed_profiles = [], []
    for row in rows:
        user = users[row.email]
        profile = profiles.get(user.pk)
        if profile is None:
            profile = profiles[user.pk] = Profile(user=user)
            new_profiles.append(profile)
        manager = users.get(row.manager_email) if row.manager_email else None
        if _profile_fill_blanks(profile, row, manager=manager) and profile.pk:
            profile.updated_at = now  # bulk_update does not apply auto_now
            changed_profiles.append(profile)
    Profile.objects.bulk_create(new_profiles)
    Profile.objects.bulk_update(changed_profiles, [*PROFILE_IMPORT_FIELDS, "updated_at"])


def _import_competency_links(
    rows: list[imports.ParticipantRow],
    enrolments: dict[str, Enrolment],
    *,
    kinds: list[str],
    suggested_by: User | None,
) -> None:
    """Replace each enrolment's competencies of the kinds the file has columns for."""
    if not kinds:
        return
    all_terms = [term for row in rows for kind in kinds for term in getattr(row, kind)]
    resolved = {
        term.lower(): competency
        for term, competency in zip(
            _unique_terms(all_terms),
            competency_terms_resolve(terms=all_terms, suggested_by=suggested_by),
            strict=True,
        )
    }
    EnrolmentCompetency.objects.filter(
        enrolment__in=list(enrolments.values()), kind__in=kinds
    ).delete()
    links = []
    for row in rows:
        enrolment = enrolments[row.email]
        for kind in kinds:
            for term in getattr(row, kind):
                links.append(
                    EnrolmentCompetency(
                        enrolment=enrolment,
                        competency=resolved[_normal_term(term).lower()],
                        kind=kind,
                    )
                )
    EnrolmentCompetency.objects.bulk_create(links, ignore_conflicts=True)


def participant_import_invite(
    *, participant_import: ParticipantImport, invited_by: User
) -> InvitationBatchResult:
    """Email an invitation to everyone in an imported file who has no password yet, so they
    can set one and see their enrolment. People who can already sign in are not emailed."""
    participant_import = ParticipantImport.objects.select_related("cohort__program").get(
        pk=participant_import.pk
    )
    if participant_import.status != ParticipantImport.Status.IMPORTED:
        raise ValidationError("Import the file before inviting its people.")
    emails = _imported_emails(participant_import)
    cohort = participant_import.cohort
    enrolments = cohort.enrolments.filter(user__email__in=emails).select_related("user")
    by_role: dict[str, list[str]] = defaultdict(list)
    for enrolment in enrolments:
        if not enrolment.user.has_usable_password():
            by_role[enrolment.role].append(enrolment.user.email)
    result = InvitationBatchResult(sent=[], refused={})
    for role, role_emails in by_role.items():
        batch = invitation_create_many(
            cohort=cohort, emails=role_emails, role=role, invited_by=invited_by
        )
        result.sent.extend(batch.sent)
        result.refused.update(batch.refused)
    ParticipantImport.objects.filter(pk=participant_import.pk).update(
        invited_at=timezone.now(), invited_count=len(result.sent)
    )
    return result


def _imported_emails(participant_import: ParticipantImport) -> list[str]:
    preview = participant_import_preview(participant_import=participant_import)
    return [row.email for row in preview.rows]


PROFILE_IMPORT_FIELDS = (
    "department",
    "job_title",
    "job_level",
    "location",
    "languages",
    "bio",
    "manager",
)


def _profile_fill_blanks(
    profile: Profile, row: imports.ParticipantRow, *, manager: User | None
) -> bool:
    """Fill what the profile lacks from the row; never overwrite what the person wrote.
    Returns whether anything changed."""
    values = {
        "department": row.department,
        "job_title": row.job_title,
        "job_level": row.job_level,
        "location": row.location,
        "languages": list(row.languages),
        "bio": row.bio,
        "manager": manager if manager and manager.email != row.email else None,
    }
    changed = False
    for name, value in values.items():
        if value and not getattr(profile, name):
            setattr(profile, name, value)
            changed = True
    return changed
