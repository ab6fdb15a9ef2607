"""Shaping matching before it runs: a program's weights and rules, and a cohort's pairs never
to propose."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from common.unset import UNSET, Unset, passed_values
from matching import selectors
from matching.models import MatchExclusion, MatchingConfig
from programs.models import Cohort, Enrolment, Program

MATCHING_CONFIG_FIELDS = (
    "weight_development",
    "weight_skills",
    "weight_department",
    "weight_level",
    "weight_time_zone",
    "weight_language",
    "weight_text",
    "require_shared_language",
    "max_time_zone_gap_hours",
    "allow_past_partners",
    "max_peer_level_gap",
    "request_response_days",
)


@transaction.atomic
def matching_config_update(
    *,
    program: Program,
    weight_development: float | Unset = UNSET,
    weight_skills: float | Unset = UNSET,
    weight_department: float | Unset = UNSET,
    weight_level: float | Unset = UNSET,
    weight_time_zone: float | Unset = UNSET,
    weight_language: float | Unset = UNSET,
    weight_text: float | Unset = UNSET,
    require_shared_language: bool | Unset = UNSET,
    max_time_zone_gap_hours: float | Unset | None = UNSET,
    allow_past_partners: bool | Unset = UNSET,
    max_peer_level_gap: int | Unset | None = UNSET,
    request_response_days: int | Unset = UNSET,
) -> MatchingConfig:
    """Change the program's matching settings (those passed; the rest stay). At least one
    weight must stay above zero."""
    config = selectors.matching_config_for(program=program)
    for name, value in passed_values(locals(), MATCHING_CONFIG_FIELDS).items():
        setattr(config, name, value)
    if sum(getattr(config, f) for f in MATCHING_CONFIG_FIELDS if f.startswith("weight_")) <= 0:
        raise ValidationError("Give at least one part of the score a weight above zero.")
    config.full_clean()
    config.save()
    return config


@transaction.atomic
def match_exclusion_add(
    *, cohort: Cohort, first: Enrolment, second: Enrolment, reason: str, created_by: User
) -> MatchExclusion:
    if first.cohort_id != cohort.pk or second.cohort_id != cohort.pk:
        raise ValidationError("Both people must be in this cohort.")
    if first.pk == second.pk:
        raise ValidationError("Choose two different people.")
    first, second = sorted((first, second), key=lambda e: e.pk)
    exclusion, _ = MatchExclusion.objects.get_or_create(
        cohort=cohort,
        first=first,
        second=second,
        defaults={"reason": reason.strip()[:200], "created_by": created_by},
    )
    return exclusion


@transaction.atomic
def match_exclusion_remove(*, exclusion: MatchExclusion) -> None:
    exclusion.delete()
