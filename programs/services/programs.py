"""Writes for programs: creating and editing one, and who coordinates it."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from common.unset import UNSET, Unset, passed_values
from programs.models import (
    COORDINATORS_GROUP,
    COORDINATORS_GROUP_PERMISSIONS,
    Program,
)
from programs.rules import (
    NO_ACCOUNT_WITH_EMAIL,
    PROGRAM_KIND_FIXED,
    PROGRAM_NEEDS_A_COORDINATOR,
    PROGRAM_SETTINGS_FIELDS,
)
from programs.selectors import (
    program_kind_is_fixed,
)


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
def program_create(
    *,
    created_by: User,
    name: str,
    description: str | Unset = UNSET,
    kind: str | Unset = UNSET,
    meeting_cadence_days: int | Unset = UNSET,
    length_weeks: int | Unset = UNSET,
    default_mentor_capacity: int | Unset = UNSET,
    circle_size: int | Unset = UNSET,
    mentors_per_circle: int | Unset = UNSET,
    mentees_may_request: bool | Unset = UNSET,
    allows_external_mentors: bool | Unset = UNSET,
    agreement_template: str | Unset = UNSET,
) -> Program:
    """Create a program (a setting not passed takes the model's default); its creator becomes its
    first coordinator."""
    settings = passed_values(locals(), PROGRAM_SETTINGS_FIELDS)
    program = Program(**settings)
    program.full_clean()
    program.save()
    program.coordinators.add(created_by)
    return program


@transaction.atomic
def program_update(
    *,
    program: Program,
    name: str | Unset = UNSET,
    description: str | Unset = UNSET,
    kind: str | Unset = UNSET,
    meeting_cadence_days: int | Unset = UNSET,
    length_weeks: int | Unset = UNSET,
    default_mentor_capacity: int | Unset = UNSET,
    circle_size: int | Unset = UNSET,
    mentors_per_circle: int | Unset = UNSET,
    mentees_may_request: bool | Unset = UNSET,
    allows_external_mentors: bool | Unset = UNSET,
    agreement_template: str | Unset = UNSET,
) -> Program:
    """Change the settings passed; the rest stay. The kind is fixed once people are matched."""
    settings = passed_values(locals(), PROGRAM_SETTINGS_FIELDS)
    if settings.get("kind", program.kind) != program.kind and program_kind_is_fixed(
        program=program
    ):
        raise ValidationError({"kind": PROGRAM_KIND_FIXED})
    for field, value in settings.items():
        setattr(program, field, value)
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
