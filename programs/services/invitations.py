"""Writes for invitations: sending them, accepting one (making the account when needed) and
asking for a new link."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile, User
from notifications.models import Notification
from notifications.services import Message, notify, notify_many
from programs.models import (
    BulkJob,
    Cohort,
    Enrolment,
    Invitation,
    ParticipantImport,
)
from programs.rules import (
    EXTERNAL_NOT_ALLOWED,
    INVITATION_COHORT_CLOSED,
    INVITATION_FOR_SOMEONE_ELSE,
    ROLE_NOT_IN_PROGRAM,
    ROLE_UNKNOWN,
    program_roles,
)
from programs.selectors import (
    invitation_problem,
)
from programs.services.jobs import bulk_job_run, bulk_job_start

# A link sent this recently is kept rather than replaced: a second press, a job resumed after a
# crash, or the same list sent twice would otherwise kill the link people are about to click.
INVITATION_RESEND_AFTER = dt.timedelta(hours=1)
# Invitations per transaction of the background job: rendered, stored and queued together.
INVITATION_BATCH_SIZE = 200
INVITATION_NOBODY = "Enter at least one address to invite."


def _invitation_check(*, cohort: Cohort, role: str, is_external: bool) -> None:
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


def _addresses(emails: Iterable[str]) -> list[str]:
    """Lower-cased, stripped, without blanks or repeats, in their order."""
    return list(dict.fromkeys(e.strip().lower() for e in emails if e.strip()))


def invitation_create(
    *, cohort: Cohort, email: str, role: str, invited_by: User, is_external: bool = False
) -> Invitation:
    """Invite one person by email: `invitation_create_many` with one address. Returns the
    invitation whose link is live: the new one, or one sent within INVITATION_RESEND_AFTER."""
    result = invitation_create_many(
        cohort=cohort, emails=[email], role=role, invited_by=invited_by, is_external=is_external
    )
    if result.refused:
        raise ValidationError({"email": list(result.refused.values())})
    return (result.sent or result.kept)[0]


@dataclass
class InvitationBatchResult:
    sent: list[Invitation]
    refused: dict[str, str]  # address → why
    # Invited in this role within INVITATION_RESEND_AFTER: their link still works and they were
    # not emailed again.
    kept: list[Invitation] = field(default_factory=list)


@transaction.atomic
def invitation_create_many(
    *,
    cohort: Cohort,
    emails: Iterable[str],
    role: str,
    invited_by: User | None,
    is_external: bool = False,
) -> InvitationBatchResult:
    """Invite several people in one role, in a fixed number of queries however many they are.

    Earlier unused invitations for the same address and cohort stop working, so only the newest
    link is live, except one sent in the same role within INVITATION_RESEND_AFTER: that link is
    kept and not emailed again. Someone who already has an account also finds the invitation in
    their notification centre. A role the program does not have raises ValidationError; an
    address that is not one is refused, and the result says why."""
    _invitation_check(cohort=cohort, role=role, is_external=is_external)
    result = InvitationBatchResult(sent=[], refused={})
    valid = []
    for email in _addresses(emails):
        try:
            EmailValidator()(email)
        except ValidationError as error:
            result.refused[email] = "; ".join(error.messages)
        else:
            valid.append(email)
    if not valid:
        return result
    now = timezone.now()
    live = {
        i.email: i
        for i in Invitation.objects.filter(
            cohort=cohort, email__in=valid, accepted_at__isnull=True, expires_at__gt=now
        ).order_by("created_at", "pk")
    }
    for email in valid:
        recent = live.get(email)
        if (
            recent is not None
            and recent.role == role
            and recent.is_external == is_external
            and recent.created_at >= now - INVITATION_RESEND_AFTER
        ):
            result.kept.append(recent)
    kept = {i.email for i in result.kept}
    to_invite = [email for email in valid if email not in kept]
    if not to_invite:
        return result
    Invitation.objects.filter(cohort=cohort, email__in=to_invite, accepted_at__isnull=True).update(
        expires_at=now
    )
    invitations = [
        Invitation(
            cohort=cohort, email=email, role=role, is_external=is_external, invited_by=invited_by
        )
        for email in to_invite
    ]
    for invitation in invitations:
        # The foreign keys are ours and the token is fresh: only the fields need checking.
        invitation.clean_fields(exclude=["cohort", "invited_by", "accepted_by"])
    result.sent = Invitation.objects.bulk_create(invitations)
    accounts = {
        u.lower_email: u
        for u in User.objects.annotate(lower_email=Lower("email")).filter(
            lower_email__in=to_invite, is_active=True
        )
    }
    context = {"cohort": cohort, "program": cohort.program, "inviter": invited_by}
    notify_many(
        messages=[
            Message(
                kind=Notification.Kind.INVITATION,
                # Someone with an account also finds it in their notification centre, and reads
                # its dates in their own time zone.
                recipient=accounts.get(invitation.email) or invitation.email,
                about=invitation,
                context={
                    **context,
                    "invitation": invitation,
                    # Only in the email (whose body is erased once sent): the token is the
                    # secret of the link, so it is never stored as the notification's url.
                    "accept_path": reverse("programs:invitation_accept", args=[invitation.token]),
                },
            )
            for invitation in result.sent
        ]
    )
    return result


# --- Many invitations in the background ----------------------------------------------------


def invitations_send(
    *,
    cohort: Cohort,
    emails: Iterable[str],
    role: str,
    invited_by: User,
    is_external: bool = False,
) -> BulkJob:
    """Queue invitations to `emails` in `role` (the invitation form) for a worker, which sends
    them in batches while the coordinator follows a progress bar; see `invitation_job_execute`.
    The same list sent again while the first is under way returns the first job."""
    _invitation_check(cohort=cohort, role=role, is_external=is_external)
    addresses = _addresses(emails)
    if not addresses:
        raise ValidationError(INVITATION_NOBODY)
    items = [[email, role] for email in addresses]
    digest = hashlib.sha256(json.dumps([items, is_external]).encode()).hexdigest()[:16]
    return invitation_job_start(
        cohort=cohort,
        items=items,
        invited_by=invited_by,
        key=f"cohort:{cohort.pk}:invite:{digest}",
        title=f"Emailing {_people(len(items))} an invitation to {cohort.name}",
        payload={"is_external": is_external},
        next_url=reverse("programs:invitation_list", args=[cohort.pk]),
    )


def _people(count: int) -> str:
    return f"{count:,} {'person' if count == 1 else 'people'}"


def invitation_job_start(
    *,
    cohort: Cohort,
    items: list[list[str]],
    invited_by: User,
    key: str,
    title: str,
    payload: dict[str, Any],
    next_url: str,
) -> BulkJob:
    return bulk_job_start(
        cohort=cohort,
        kind=BulkJob.Kind.INVITE,
        key=key,
        title=title,
        task_name="programs.tasks.invitation_job_execute_task",
        total=len(items),
        created_by=invited_by,
        payload={**payload, "items": items, "sent": 0, "kept": [], "refused": {}},
        next_url=next_url,
    )


def invitation_job_execute(*, job_id: int) -> BulkJob:
    """Send a job's invitations, INVITATION_BATCH_SIZE per transaction. `done` is the cursor
    into the job's list and moves with the batch that sent them, so a run after a crash starts
    at the first person not yet invited; nobody gets two emails from one job."""
    return bulk_job_run(job_id=job_id, batch=_invitation_batch, finish=_invitation_finish)


def _invitation_batch(job: BulkJob) -> int:
    items = job.payload["items"][job.done : job.done + INVITATION_BATCH_SIZE]
    if not items:
        return 0
    cohort = Cohort.objects.select_related("program").get(pk=job.cohort_id)
    inviter = User.objects.filter(pk=job.created_by_id).first() if job.created_by_id else None
    by_role: dict[str, list[str]] = defaultdict(list)
    for email, role in items:
        by_role[role].append(email)
    for role, emails in by_role.items():
        result = invitation_create_many(
            cohort=cohort,
            emails=emails,
            role=role,
            invited_by=inviter,
            is_external=job.payload.get("is_external", False),
        )
        job.payload["sent"] += len(result.sent)
        job.payload["kept"] += [i.email for i in result.kept]
        job.payload["refused"].update(result.refused)
    BulkJob.objects.filter(pk=job.pk).update(payload=job.payload)
    return len(items)


def _invitation_finish(job: BulkJob) -> tuple[str, list[str]]:
    sent, kept, refused = job.payload["sent"], job.payload["kept"], job.payload["refused"]
    if job.payload.get("import_id"):
        ParticipantImport.objects.filter(pk=job.payload["import_id"]).update(
            invited_at=timezone.now(), invited_count=sent
        )
    details = []
    if kept:
        details.append(
            f"Not emailed again, their link from the last hour still works: {_some(kept)}."
        )
    if refused:
        details.append(
            "Not sent: " + _some([f"{email} ({why})" for email, why in sorted(refused.items())])
        )
    return f"Invited {_people(sent)}.", details


DETAILS_NAMED = 20  # a page of a thousand addresses would hide what it says


def _some(names: list[str]) -> str:
    shown = ", ".join(names[:DETAILS_NAMED])
    more = len(names) - DETAILS_NAMED
    return f"{shown} and {more:,} more" if more > 0 else shown


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
        user = _claim_account(
            invitation.email,
            display_name=display_name,
            password=password,
            time_zone=invitation.cohort.program.time_zone,
        )
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


def _claim_account(email: str, *, display_name: str, password: str, time_zone: str) -> User:
    """The invited person's account: a new one starts in the program's time zone; one made by
    an import keeps the zone the file gave."""
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
        user = User(email=email, time_zone=time_zone)
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
    """Someone holding a dead link asks for a new one: each coordinator of the program is
    notified. Asking twice notifies once."""
    claimed = Invitation.objects.filter(pk=invitation.pk, renewal_requested_at__isnull=True).update(
        renewal_requested_at=timezone.now()
    )
    invitation.refresh_from_db()
    if not claimed:
        return invitation
    cohort = invitation.cohort
    url = reverse("programs:invitation_list", args=[cohort.pk])
    for coordinator in cohort.program.coordinators.filter(is_active=True):
        notify(
            kind=Notification.Kind.INVITATION_RENEWAL_REQUEST,
            recipient=coordinator,
            about=invitation,
            context={"invitation": invitation, "cohort": cohort},
            url=url,
        )
    return invitation
