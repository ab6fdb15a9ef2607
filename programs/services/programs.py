"""Writes for programs: creating and editing one, and who coordinates it."""

from __future__ import annotations

import uuid
from typing import Unpack

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from accounts.services import submission_claim, submission_record
from programs.models import (
    COORDINATORS_GROUP,
    COORDINATORS_GROUP_PERMISSIONS,
    FeedbackQuestion,
    Program,
)
from programs.rules import (
    NO_ACCOUNT_WITH_EMAIL,
    PROGRAM_KIND_FIXED,
    PROGRAM_NEEDS_A_COORDINATOR,
    PROGRAM_SETTINGS_FIELDS,
    ProgramSettings,
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


# Every new program's midpoint and final survey, so its first cohort is asked something; the
# coordinator edits them like any others. What a mentoring program wants to know: whether the
# meetings are useful, whether goals move, what helps and what to change, and whether people
# would recommend it (the dashboards' "Would recommend" reads a scale question saying
# "recommend"). Asked of everyone, so they suit every kind of program, peers and circles too.
# Read by the coordinator only (FeedbackQuestion.VisibleTo): people answer plainly, and the
# written answers feed the close-out report's "what people said they gained".
DEFAULT_FEEDBACK_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("How useful have your meetings been?", FeedbackQuestion.AnswerKind.SCALE),
    (
        "How much progress have you made on the goals you set together?",
        FeedbackQuestion.AnswerKind.SCALE,
    ),
    (
        "What has helped you most so far, and what have you gained?",
        FeedbackQuestion.AnswerKind.TEXT,
    ),
    (
        "What would you change to make the rest of the program more useful?",
        FeedbackQuestion.AnswerKind.TEXT,
    ),
    (
        "How likely are you to recommend this program to a colleague?",
        FeedbackQuestion.AnswerKind.SCALE,
    ),
)


def _settings_checked(settings: ProgramSettings) -> ProgramSettings:
    """Refuse a setting the program does not have, rather than ignore a misspelt one."""
    unknown = sorted(set(settings) - set(PROGRAM_SETTINGS_FIELDS))
    if unknown:
        raise TypeError(f"Programs have no setting {', '.join(unknown)}.")
    return settings


@transaction.atomic
def program_create(
    *,
    created_by: User,
    submission_token: uuid.UUID | None = None,
    **settings: Unpack[ProgramSettings],
) -> Program:
    """Create a program (a setting not passed takes the model's default); its creator becomes its
    first coordinator, and it starts with the DEFAULT_FEEDBACK_QUESTIONS for its surveys. The
    same form sent twice makes one (`submission_token`)."""
    submission_claim(user=created_by, token=submission_token, model=Program)
    program = Program(**_settings_checked(settings))
    program.full_clean()
    program.save()
    program.coordinators.add(created_by)
    questions = [
        FeedbackQuestion(
            program=program,
            text=text,
            answer_kind=answer_kind,
            asked_of=FeedbackQuestion.AskedOf.EVERYONE,
            visible_to=FeedbackQuestion.VisibleTo.COORDINATOR,
            position=position,
        )
        for position, (text, answer_kind) in enumerate(DEFAULT_FEEDBACK_QUESTIONS)
    ]
    for question in questions:
        question.full_clean()
    FeedbackQuestion.objects.bulk_create(questions)
    submission_record(user=created_by, token=submission_token, created=program)
    return program


@transaction.atomic
def program_update(*, program: Program, **settings: Unpack[ProgramSettings]) -> Program:
    """Change the settings passed; the rest stay. The kind is fixed once people are matched."""
    _settings_checked(settings)
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
