"""The rules of programs that reads and writes share: the messages people see (tests assert on
them), the cohort lifecycle, and which roles a program takes.

They sit below both `selectors` (which explain why a step cannot be taken yet) and `services`
(which refuse it), so neither imports the other.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import TypedDict

from django.utils import timezone

from .models import Cohort, Enrolment, Program

# --- Messages people see (tests assert on these).
COHORT_TRANSITION_NOT_ALLOWED = "A cohort cannot go from {current} to {target}."
COHORT_NEEDS_MENTORS_AND_MENTEES = (
    "Approve at least one mentor and one mentee before matching starts."
)
COHORT_NEEDS_TWO_PEERS = "Approve at least two peers before matching starts."
COHORT_NEEDS_PUBLISHED_MATCHES = "Publish the cohort's matches before it becomes active."
COHORT_REOPEN_AFTER_PUBLISHING = "Matches are published: enrolment cannot reopen."
COHORT_STARTS_LATER = (
    "This cohort starts on {date}: confirm that its relationships should begin now, before "
    "that date."
)
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
IMPORT_BUSY = (
    "Nothing was imported: other imports were creating the same people at the same moment. "
    "Import the file again."
)
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


class ProgramSettings(TypedDict, total=False):
    """What a coordinator sets on a program (the settings form, nothing else)."""

    name: str
    description: str
    kind: str
    meeting_cadence_days: int
    length_weeks: int
    default_mentor_capacity: int
    circle_size: int
    mentors_per_circle: int
    mentees_may_request: bool
    allows_external_mentors: bool
    agreement_template: str
    time_zone: str
    # Reminders (goals.reminder_sweep); an empty field on the form takes the default.
    reminder_check_in_grace_days: int
    reminder_confirm_after_days: int
    reminder_agreement_unsigned_days: int
    reminder_goal_due_soon_days: int
    reminder_survey_unanswered_days: int
    reminder_request_unanswered_days: int
    reminder_invitation_unaccepted_days: int
    reminder_survey_response_percent: int


PROGRAM_SETTINGS_FIELDS = tuple(ProgramSettings.__annotations__)


def program_roles(program: Program) -> frozenset[str]:
    if program.kind == Program.Kind.PEER:
        return frozenset({Enrolment.Role.PEER})
    return frozenset({Enrolment.Role.MENTOR, Enrolment.Role.MENTEE})


def cohort_default_ends_on(*, program: Program, starts_on: dt.date) -> dt.date:
    """When a cohort starting on `starts_on` ends unless its coordinator says otherwise: the
    program's length after its start."""
    return starts_on + dt.timedelta(weeks=program.length_weeks)


def program_today(program: Program) -> dt.date:
    """Today where the program runs (its time zone), which cohort dates are read in."""
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(program.time_zone))


def cohort_starts_later(cohort: Cohort) -> dt.date | None:
    """The cohort's start date while it is still to come, where the program runs; else None.
    Starting a cohort before that date needs the coordinator's confirmation."""
    return cohort.starts_on if program_today(cohort.program) < cohort.starts_on else None
