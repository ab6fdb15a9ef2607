"""The engine's vocabulary: who is matched, by which rules, and what comes out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

Mode = Literal["one_to_one", "reverse", "peer", "circle"]
Objective = Literal["score", "coverage"]
Progress = Callable[[int, str], None]
# Mentees x mentors (or peers x peers): scores and fits are float32, rule masks bool.
FloatMatrix = NDArray[np.float32]
BoolMatrix = NDArray[np.bool_]


@dataclass(frozen=True)
class Person:
    """One enrolment, as matching sees it. Competencies are vocabulary ids (synonyms already
    resolved to their term), so "presenting" and "public speaking" meet."""

    id: int  # the enrolment's id
    user_id: int
    role: Literal["mentor", "mentee", "peer"]
    capacity: int = 1  # mentors and peers: how many partners; mentees: 1
    develop: frozenset[int] = frozenset()
    seek: frozenset[int] = frozenset()
    offer: frozenset[int] = frozenset()
    expertise: frozenset[int] = frozenset()
    department: str = ""
    level: int | None = None  # 1 (entry) .. 8 (executive)
    reporting_chain: frozenset[int] = frozenset()  # user ids of manager and manager's manager
    utc_offset_hours: float | None = None
    languages: frozenset[str] = frozenset()  # lower-cased
    prefers_other_department: bool = False
    prefers_same_time_zone: bool = False
    past_partner_user_ids: frozenset[int] = frozenset()
    text: str = ""  # what they wrote: goals and hopes, or bio and expertise


@dataclass(frozen=True)
class Weights:
    """How much each part of a pair's fit counts. Scores are normalised to 0..1 whatever the
    weights, so a coordinator can change them without the scale moving."""

    development: float = 3.0  # mentee's development areas met by the mentor's expertise
    skills: float = 2.0  # skills the mentee seeks that the mentor offers
    department: float = 0.5  # another department, when the mentee asked for one
    level: float = 1.0  # a level gap in the right direction
    time_zone: float = 0.5  # close time zones
    language: float = 0.5  # a shared language
    text: float = 0.0  # similarity of what they wrote (off by default)

    def as_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in COMPONENTS}


COMPONENTS = ("development", "skills", "department", "level", "time_zone", "language", "text")


@dataclass(frozen=True)
class Rules:
    """Hard rules: a pair that breaks one is never proposed."""

    require_shared_language: bool = True
    max_time_zone_gap_hours: float | None = None
    allow_past_partners: bool = False
    max_peer_level_gap: int | None = 2  # peers: "a similar level"
    excluded_pairs: frozenset[tuple[int, int]] = frozenset()  # (person id, person id), any order


@dataclass(frozen=True)
class MatchSettings:
    mode: Mode = "one_to_one"
    objective: Objective = "score"  # or "coverage": as many matched as possible, then score
    weights: Weights = field(default_factory=Weights)
    rules: Rules = field(default_factory=Rules)
    locked_pairs: tuple[tuple[int, int], ...] = ()  # (mentor id, mentee id) kept as they are
    circle_size: int = 5
    mentors_per_circle: int = 1
    alternatives: int = 3  # next-best mentors listed per mentee
    candidates_per_mentee: int = 60  # the sparse graph keeps each mentee's best mentors


@dataclass(frozen=True)
class Pair:
    mentor_id: int  # peers: the lower id
    mentee_id: int
    score: float
    components: dict[str, float]  # each part's 0..1 value, before weighting
    shared: dict[str, tuple[int, ...]]  # "development" and "skills": the competency ids met
    locked: bool = False


@dataclass(frozen=True)
class Unmatched:
    person_id: int
    reason_code: str
    reason: str


@dataclass(frozen=True)
class Alternative:
    mentor_id: int
    score: float
    has_capacity: bool  # a place is free in this result


@dataclass(frozen=True)
class Circle:
    mentor_ids: tuple[int, ...]
    member_ids: tuple[int, ...]
    score: float
    shared_development: tuple[int, ...]  # development areas at least two members share


@dataclass
class MatchResult:
    pairs: list[Pair]
    unmatched: list[Unmatched]
    objective_value: float  # the sum of pair scores (circles: of circle scores)
    alternatives: dict[int, list[Alternative]]  # mentee id → next-best mentors
    circles: list[Circle] = field(default_factory=list)
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def matched_count(self) -> int:
        return len(self.pairs) if not self.circles else sum(len(c.member_ids) for c in self.circles)
