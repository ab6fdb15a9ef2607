"""The matching engine: plain data in, assignment out. No ORM, no Django.

`match(people=..., settings=...)` scores every candidate pair, applies the hard rules, finds the
assignment that is best for the whole cohort (not greedy), and explains each pair. The service
layer loads a cohort into `Person` records, calls it, and stores the result.
"""

from .api import match
from .types import (
    Alternative,
    Circle,
    MatchResult,
    MatchSettings,
    Pair,
    Person,
    Rules,
    Unmatched,
    Weights,
)

__all__ = [
    "Alternative",
    "Circle",
    "MatchResult",
    "MatchSettings",
    "Pair",
    "Person",
    "Rules",
    "Unmatched",
    "Weights",
    "match",
]
