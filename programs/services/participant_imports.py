"""Writes for participant imports: upload, mapping, the all-or-nothing import and inviting the
people it brought in."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile, User
from accounts.services import submission_claim, submission_record
from programs import imports
from programs.models import (
    BulkJob,
    Cohort,
    Enrolment,
    EnrolmentCompetency,
    ParticipantImport,
)
from programs.rules import (
    IMPORT_ALREADY_DONE,
    IMPORT_BUSY,
    IMPORT_COHORT_CLOSED,
    IMPORT_HAS_ERRORS,
    IMPORT_MISSING_COLUMNS,
    program_roles,
)
from programs.services.invitations import invitation_job_start
from programs.services.vocabulary import _normal_term, _unique_terms, competency_terms_resolve


@transaction.atomic
def participant_import_create(
    *,
    cohort: Cohort,
    uploaded_by: User,
    filename: str,
    content: bytes,
    submission_token: uuid.UUID | None = None,
) -> ParticipantImport:
    """Read an uploaded file and keep its table for mapping and preview. Whole-file problems
    (format, size, no header) raise ValidationError with the reader's message. The same upload
    sent twice is read once (`submission_token`)."""
    submission_claim(user=uploaded_by, token=submission_token, model=ParticipantImport)
    _import_check_cohort_open(cohort)
    try:
        table = imports.table_read(filename=filename, content=content)
    except imports.ImportFileError as error:
        raise ValidationError(str(error)) from None
    participant_import = ParticipantImport.objects.create(
        cohort=cohort,
        uploaded_by=uploaded_by,
        filename=filename[:255],
        headers=table.headers,
        rows=[[line, cells] for line, cells in table.rows],
        mapping={str(i): name for i, name in imports.mapping_guess(table.headers).items()},
    )
    submission_record(user=uploaded_by, token=submission_token, created=participant_import)
    return participant_import


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
    `participant_import` is refreshed in place.

    Imports at the same moment: into one cohort, they run one after the other (the cohort's
    row is locked); into different cohorts sharing people, new accounts are made as in
    `_import_users` and shared profiles filled one import after the other, never a 500."""
    locked = (
        ParticipantImport.objects.select_for_update(of=("self", "cohort"))
        .select_related("cohort__program")
        .get(pk=participant_import.pk)
    )
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

    users, created_people = _import_users(rows, default_time_zone=cohort.program.time_zone)
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


# Tries at creating a file's new accounts while other imports create some of the same people.
IMPORT_USER_ATTEMPTS = 5


def _import_users(
    rows: list[imports.ParticipantRow], *, default_time_zone: str
) -> tuple[dict[str, User], int]:
    """Everyone the file names (participants and their managers) by email, creating accounts
    without a password for participants who have none yet (in the row's time zone, else the
    program's); also returns how many were new.

    Another import may be creating some of the same people at this moment (two programs
    sharing new people). The new accounts are inserted in email order, inside a savepoint: on
    PostgreSQL the insert waits at the first address another import is creating until that
    import ends; if it committed, the insert fails on the unique email, the savepoint rolls
    back, and the accounts are read again (the other import's now among them) and the rest
    inserted. Inserting in one order means two imports never each wait for the other."""
    emails = {row.email for row in rows} | {row.manager_email for row in rows if row.manager_email}
    unusable = make_password(None)
    for _ in range(IMPORT_USER_ATTEMPTS):
        found = User.objects.annotate(lower_email=Lower("email")).filter(lower_email__in=emails)
        users: dict[str, User] = {u.email.lower(): u for u in found}
        new_users = []
        for row in sorted(rows, key=lambda row: row.email):
            if row.email in users:
                continue
            user = User(
                email=row.email,
                display_name=row.display_name,
                time_zone=row.time_zone or default_time_zone,
                password=unusable,
            )
            users[row.email] = user
            new_users.append(user)
        try:
            with transaction.atomic():
                User.objects.bulk_create(new_users)
        except IntegrityError:
            continue
        return users, len(new_users)
    raise ValidationError(IMPORT_BUSY)


def _import_profiles(
    rows: list[imports.ParticipantRow], users: dict[str, User], *, now: dt.datetime
) -> None:
    """Fill each participant's profile where it is blank, making the profiles they lack.

    The profiles that exist are locked in id order before they are read, so two imports sharing
    people fill them one after the other (each blank once, no lost update, no deadlock); new
    profiles are inserted in a savepoint, and read again if another import made one first."""
    participants = sorted({users[row.email].pk for row in rows})
    for _ in range(IMPORT_USER_ATTEMPTS):
        profiles = {
            p.user_id: p
            for p in Profile.objects.select_for_update()
            .filter(user_id__in=participants)
            .order_by("pk")
        }
        new_profiles, changed_profiles = [], []
        for row in sorted(rows, key=lambda row: users[row.email].pk):
            user = users[row.email]
            profile = profiles.get(user.pk)
            if profile is None:
                profile = profiles[user.pk] = Profile(user=user)
                new_profiles.append(profile)
            manager = users.get(row.manager_email) if row.manager_email else None
            if _profile_fill_blanks(profile, row, manager=manager) and profile.pk:
                profile.updated_at = now  # bulk_update does not apply auto_now
                changed_profiles.append(profile)
        try:
            with transaction.atomic():
                Profile.objects.bulk_create(new_profiles)
        except IntegrityError:
            continue
        Profile.objects.bulk_update(changed_profiles, [*PROFILE_IMPORT_FIELDS, "updated_at"])
        return
    raise ValidationError(IMPORT_BUSY)


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
) -> BulkJob | None:
    """Queue an invitation to everyone in an imported file who has no password yet, so they can
    set one and see their enrolment; a worker sends them in batches (`invitation_job_execute`)
    while the coordinator follows a progress bar. People who can already sign in are not
    emailed, and None comes back when that leaves nobody.

    Pressed twice, the job under way comes back. Pressed again later, people invited within
    INVITATION_RESEND_AFTER keep their link; the others get a fresh one."""
    participant_import = ParticipantImport.objects.select_related("cohort__program").get(
        pk=participant_import.pk
    )
    if participant_import.status != ParticipantImport.Status.IMPORTED:
        raise ValidationError("Import the file before inviting its people.")
    emails = _imported_emails(participant_import)
    cohort = participant_import.cohort
    enrolments = (
        cohort.enrolments.filter(user__email__in=emails)
        .select_related("user")
        .order_by("role", "user__email")
    )
    items = [
        [enrolment.user.email.lower(), enrolment.role]
        for enrolment in enrolments
        if not enrolment.user.has_usable_password()
    ]
    if not items:
        return None
    return invitation_job_start(
        cohort=cohort,
        items=items,
        invited_by=invited_by,
        key=f"import:{participant_import.pk}:invite",
        title=f"Emailing invitations to the people of {participant_import.filename}",
        payload={"import_id": participant_import.pk},
        next_url=reverse("programs:import_review", args=[participant_import.pk]),
    )


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
