"""Writes for invitations: sending them, accepting one (making the account when needed) and
asking for a new link."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile, User
from notifications.models import Notification
from notifications.services import notify
from programs.models import (
    Cohort,
    Enrolment,
    Invitation,
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
    # Someone who already has an account also finds the invitation in their notification
    # centre, and reads its dates in their own time zone.
    notify(
        kind=Notification.Kind.INVITATION,
        recipient=User.objects.filter(email__iexact=email, is_active=True).first() or email,
        about=invitation,
        context={
            "invitation": invitation,
            "cohort": cohort,
            "program": cohort.program,
            "inviter": invited_by,
            # Only in the email (whose body is erased once sent): the token is the secret of
            # the link, so it is never stored as the notification's url.
            "accept_path": reverse("programs:invitation_accept", args=[invitation.token]),
        },
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
