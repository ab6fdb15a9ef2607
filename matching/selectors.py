from __future__ import annotations

from programs.models import Cohort


def cohort_has_published_matches(*, cohort: Cohort) -> bool:
    """Whether the cohort's matches are published (its relationships exist).

    The seam the cohort lifecycle asks before a cohort becomes active. Matching runs and
    publishing arrive with the matching issue; until then no cohort has published matches."""
    return False
