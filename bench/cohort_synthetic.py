"""A synthetic cohort that looks like a real organisation's, for benchmarks and tests.

    from bench.cohort_synthetic import competency_names, synthetic_cohort

    people = synthetic_cohort(mentees=10_000, mentors=2_000, seed=0)
    names = competency_names(300)

Deterministic for a given seed (and NumPy version). What makes it realistic rather than uniform:

- Competency popularity is Zipf-like: id 0 ("communication") is the most popular and the tail is
  long. Ids 0-19 are general skills everyone may want; the rest belong to one of ten departments
  in turn, and people mostly want and offer their own department's (8x), with some cross-over.
- Mentor capacities are 1-5 but mostly 1-2, so (at five mentees per mentor) demand is above
  capacity, as in most programs, and who gets the scarce places is the optimiser's real work.
- About 2% of mentees speak only a language other than English; some speak only Mandarin, which
  no mentor here speaks, so a few mentees are left out for language. About 25% of mentees have a
  mentor of their own department as manager or skip-manager (a reporting-chain conflict).

Ids: mentees are 1..mentees, mentors follow; user ids are ids + USER_ID_OFFSET, so code that
mixes up enrolment ids and user ids fails here rather than in production.
"""

from __future__ import annotations

from typing import Literal, Required, TypedDict

import numpy as np

from matching.engine.types import Person

USER_ID_OFFSET = 1_000_000

# (department, share of headcount): a few big departments, many small ones.
DEPARTMENTS = (
    ("Engineering", 0.25),
    ("Sales", 0.15),
    ("Operations", 0.12),
    ("Product", 0.08),
    ("Data", 0.08),
    ("Marketing", 0.08),
    ("Finance", 0.07),
    ("People", 0.06),
    ("Design", 0.06),
    ("Legal", 0.05),
)
GENERAL_COMPETENCIES = (
    "Communication",
    "Leadership",
    "Stakeholder management",
    "Giving feedback",
    "Public speaking",
    "Time management",
    "Negotiation",
    "Coaching",
    "Strategic thinking",
    "Decision making",
    "Conflict resolution",
    "Writing",
    "Networking",
    "Career planning",
    "Managing up",
    "Delegation",
    "Prioritisation",
    "Influencing",
    "Change management",
    "Resilience",
)
DEPARTMENT_COMPETENCIES = {
    "Engineering": ("System design", "Code review", "Testing", "Cloud infrastructure", "Security"),
    "Sales": ("Prospecting", "Account management", "Forecasting", "Closing", "Sales engineering"),
    "Operations": ("Process improvement", "Supply chain", "Vendor management", "Logistics"),
    "Product": ("Product discovery", "Roadmapping", "User research", "Pricing", "Experimentation"),
    "Data": ("Statistics", "Machine learning", "Data engineering", "SQL", "Visualisation"),
    "Marketing": ("Brand", "Content strategy", "Growth marketing", "Market research", "SEO"),
    "Finance": ("Financial modelling", "Budgeting", "Accounting", "Treasury", "Audit"),
    "People": ("Recruiting", "Compensation", "Learning design", "Employee relations"),
    "Design": ("Interaction design", "Visual design", "Design systems", "Prototyping"),
    "Legal": ("Contract law", "Privacy", "Compliance", "Intellectual property", "Litigation"),
}
GENERAL_COUNT = len(GENERAL_COMPETENCIES)
ZIPF_EXPONENT = 0.9
OWN_DEPARTMENT_AFFINITY = 8.0  # how much more likely one's own department's competencies are
OTHER_DEPARTMENT_AFFINITY = 0.3  # cross-over: a salesperson who wants to learn SQL

# (UTC offset, share): the Americas, Europe, India, Asia-Pacific, weighted towards a few hubs.
TIME_ZONES = (
    (-8, 0.12),
    (-5, 0.25),
    (0, 0.18),
    (1, 0.20),
    (2, 0.05),
    (5.5, 0.10),
    (8, 0.06),
    (10, 0.04),
)
SECOND_LANGUAGES = ("german", "spanish", "french", "portuguese")
# Second languages people near each offset are likely to speak; other offsets use all four.
# Keyed by float because offsets come out of NumPy as floats (5.5 is one); 1.0 finds the 1 entry.
LANGUAGES_NEAR: dict[float, tuple[str, ...]] = {
    -8: ("spanish",),
    -5: ("spanish", "portuguese", "french"),
    0: ("french", "portuguese", "spanish"),
    1: ("german", "french", "spanish"),
    2: ("german",),
}
SECOND_LANGUAGE_SHARE = 0.15
NON_ENGLISH_ONLY_SHARE = 0.02  # mentees (and peers) who speak no English
# Speakers of no English at UTC+8 speak Mandarin, which no mentor in this organisation speaks.
ONLY_LANGUAGE_NEAR = {**LANGUAGES_NEAR, 8: ("mandarin",)}

MENTEE_LEVELS = ((1, 0.15), (2, 0.30), (3, 0.30), (4, 0.17), (5, 0.08))
MENTOR_LEVELS = ((4, 0.20), (5, 0.30), (6, 0.25), (7, 0.15), (8, 0.10))
PEER_LEVELS = ((3, 0.25), (4, 0.35), (5, 0.25), (6, 0.15))
CAPACITIES = ((1, 0.35), (2, 0.30), (3, 0.15), (4, 0.12), (5, 0.08))
REPORTING_CHAIN_SHARE = 0.25
PREFERS_OTHER_DEPARTMENT_SHARE = 0.40
PREFERS_SAME_TIME_ZONE_SHARE = 0.15


Role = Literal["mentor", "mentee", "peer"]
SetField = Literal["develop", "seek", "offer", "expertise"]
FlagField = Literal["prefers_other_department", "prefers_same_time_zone"]


class Fields(TypedDict, total=False):
    """One side's generated columns: arrays (one entry per person) and per-person sets."""

    department: Required[np.ndarray]  # index into DEPARTMENTS
    level: Required[np.ndarray]
    utc_offset: Required[np.ndarray]
    languages: list[frozenset[str]]
    develop: list[frozenset[int]]
    seek: list[frozenset[int]]
    offer: list[frozenset[int]]
    expertise: list[frozenset[int]]
    prefers_other_department: np.ndarray  # bool
    prefers_same_time_zone: np.ndarray  # bool
    capacity: np.ndarray


def competency_names(n: int) -> dict[int, str]:
    """Display names for competency ids 0..n-1, matching the ids `synthetic_cohort` uses."""
    names = dict(enumerate(GENERAL_COMPETENCIES[:n]))
    seen: dict[str, int] = {}
    for competency in range(GENERAL_COUNT, n):
        department = _department_of(competency)
        k = seen.get(department, 0)
        seen[department] = k + 1
        known = DEPARTMENT_COMPETENCIES[department]
        names[competency] = known[k] if k < len(known) else f"{department} specialism {k + 1}"
    return names


def synthetic_cohort(
    *,
    mentees: int,
    mentors: int,
    competencies: int = 300,
    seed: int = 0,
    peers: bool = False,
) -> list[Person]:
    """`mentees` mentees and `mentors` mentors (ids 1.. in that order). With `peers=True`,
    `mentees` people with role "peer" (capacity 1) and `mentors` must be 0."""
    if peers and mentors:
        raise ValueError("a peer cohort has no mentors: pass the number of peers as mentees")
    if competencies < GENERAL_COUNT + len(DEPARTMENTS):
        raise ValueError(f"need at least {GENERAL_COUNT + len(DEPARTMENTS)} competencies")
    rng = np.random.default_rng(seed)
    log_weights = _department_log_weights(competencies)
    if peers:
        return _peers(rng, mentees, log_weights)
    mentor_side = _mentor_fields(rng, mentors, log_weights)
    mentee_side = _seeker_fields(rng, mentees, log_weights, MENTEE_LEVELS)
    # Managers come from the mentors of the mentee's own department, more senior than them.
    mentor_user_ids = np.arange(mentees + 1, mentees + mentors + 1) + USER_ID_OFFSET
    chains = _reporting_chains(
        rng,
        departments=mentee_side["department"],
        levels=mentee_side["level"],
        boss_departments=mentor_side["department"],
        boss_levels=mentor_side["level"],
        boss_user_ids=mentor_user_ids,
    )
    people = [
        _person(i + 1, "mentee", mentee_side, i, reporting_chain=chains[i]) for i in range(mentees)
    ]
    people += [
        _person(mentees + j + 1, "mentor", mentor_side, j, capacity=int(mentor_side["capacity"][j]))
        for j in range(mentors)
    ]
    return people


# --- Building blocks ----------------------------------------------------------------------------


def _department_of(competency: int) -> str:
    return DEPARTMENTS[(competency - GENERAL_COUNT) % len(DEPARTMENTS)][0]


def _department_log_weights(competencies: int) -> np.ndarray:
    """log P(competency) for someone in each department (departments x competencies), before
    normalising: Zipf popularity times the department's affinity."""
    ids = np.arange(competencies)
    popularity = (ids + 1.0) ** -ZIPF_EXPONENT
    owner = np.where(ids < GENERAL_COUNT, -1, (ids - GENERAL_COUNT) % len(DEPARTMENTS))
    affinity = np.where(
        owner[None, :] == np.arange(len(DEPARTMENTS))[:, None],
        OWN_DEPARTMENT_AFFINITY,
        OTHER_DEPARTMENT_AFFINITY,
    )
    affinity[:, owner < 0] = 1.0
    return np.log(popularity[None, :] * affinity)


def _sample_sets(
    rng: np.random.Generator, log_weights: np.ndarray, sizes: np.ndarray
) -> list[frozenset[int]]:
    """For each row, `sizes[row]` distinct columns drawn with probability proportional to the
    weights, one after another (the Gumbel top-k trick: the same as repeated draws without
    replacement, but vectorised over everyone)."""
    keys = log_weights + rng.gumbel(size=log_weights.shape)
    top = np.argsort(-keys, axis=1)[:, : int(sizes.max(initial=0))]
    return [frozenset(int(c) for c in row[:k]) for row, k in zip(top, sizes, strict=True)]


def _choice(rng: np.random.Generator, options: tuple, n: int) -> np.ndarray:
    values, shares = zip(*options, strict=True)
    p = np.array(shares, dtype=float)
    return np.array(values)[rng.choice(len(values), size=n, p=p / p.sum())]


def _common_fields(rng: np.random.Generator, n: int, levels: tuple) -> Fields:
    department = rng.choice(
        len(DEPARTMENTS), size=n, p=np.array([share for _, share in DEPARTMENTS])
    )
    return {
        "department": department,
        "level": _choice(rng, levels, n),
        "utc_offset": _choice(rng, TIME_ZONES, n),
    }


def _languages(
    rng: np.random.Generator, offsets: np.ndarray, *, non_english_only: float
) -> list[frozenset[str]]:
    result = []
    second = rng.random(len(offsets)) < SECOND_LANGUAGE_SHARE
    only = rng.random(len(offsets)) < non_english_only
    picks = rng.random(len(offsets))
    for offset, has_second, only_other, pick in zip(offsets, second, only, picks, strict=True):
        if only_other:
            options = ONLY_LANGUAGE_NEAR.get(float(offset), SECOND_LANGUAGES)
            result.append(frozenset({options[int(pick * len(options))]}))
        elif has_second:
            options = LANGUAGES_NEAR.get(float(offset), SECOND_LANGUAGES)
            result.append(frozenset({"english", options[int(pick * len(options))]}))
        else:
            result.append(frozenset({"english"}))
    return result


def _seeker_fields(
    rng: np.random.Generator, n: int, log_weights: np.ndarray, levels: tuple
) -> Fields:
    """What a mentee (or the seeking side of a peer) wants, and their preferences."""
    fields = _common_fields(rng, n, levels)
    rows = log_weights[fields["department"]]
    fields["develop"] = _sample_sets(rng, rows, rng.integers(2, 6, size=n))
    fields["seek"] = _sample_sets(rng, rows, rng.integers(1, 4, size=n))
    fields["languages"] = _languages(
        rng, fields["utc_offset"], non_english_only=NON_ENGLISH_ONLY_SHARE
    )
    fields["prefers_other_department"] = rng.random(n) < PREFERS_OTHER_DEPARTMENT_SHARE
    fields["prefers_same_time_zone"] = rng.random(n) < PREFERS_SAME_TIME_ZONE_SHARE
    return fields


def _mentor_fields(rng: np.random.Generator, n: int, log_weights: np.ndarray) -> Fields:
    fields = _common_fields(rng, n, MENTOR_LEVELS)
    rows = log_weights[fields["department"]]
    fields["expertise"] = _sample_sets(rng, rows, rng.integers(3, 8, size=n))
    fields["offer"] = _sample_sets(rng, rows, rng.integers(2, 6, size=n))
    fields["languages"] = _languages(rng, fields["utc_offset"], non_english_only=0.0)
    fields["capacity"] = _choice(rng, CAPACITIES, n)
    return fields


def _reporting_chains(
    rng: np.random.Generator,
    *,
    departments: np.ndarray,
    levels: np.ndarray,
    boss_departments: np.ndarray,
    boss_levels: np.ndarray,
    boss_user_ids: np.ndarray,
) -> list[frozenset[int]]:
    """For about a quarter of people, a manager (and half the time a skip-manager): user ids of
    more senior people of the same department among `boss_*`."""
    chains: list[frozenset[int]] = [frozenset()] * len(departments)
    has_chain = rng.random(len(departments)) < REPORTING_CHAIN_SHARE
    chain_length = rng.integers(1, 3, size=len(departments))
    for i in np.nonzero(has_chain)[0]:
        # Strictly more senior, so nobody (a peer) is their own manager.
        senior = (boss_departments == departments[i]) & (boss_levels > levels[i])
        candidates = boss_user_ids[senior]
        if candidates.size:
            size = min(int(chain_length[i]), candidates.size)
            chains[i] = frozenset(int(u) for u in rng.choice(candidates, size=size, replace=False))
    return chains


def _person(
    person_id: int,
    role: Role,
    fields: Fields,
    row: int,
    *,
    capacity: int = 1,
    reporting_chain: frozenset[int] = frozenset(),
) -> Person:
    def items(name: SetField) -> frozenset[int]:
        return fields[name][row] if name in fields else frozenset()

    def flag(name: FlagField) -> bool:
        return bool(fields[name][row]) if name in fields else False

    return Person(
        id=person_id,
        user_id=person_id + USER_ID_OFFSET,
        role=role,
        capacity=capacity,
        develop=items("develop"),
        seek=items("seek"),
        offer=items("offer"),
        expertise=items("expertise"),
        department=DEPARTMENTS[int(fields["department"][row])][0],
        level=int(fields["level"][row]),
        reporting_chain=reporting_chain,
        utc_offset_hours=float(fields["utc_offset"][row]),
        languages=fields["languages"][row],
        prefers_other_department=flag("prefers_other_department"),
        prefers_same_time_zone=flag("prefers_same_time_zone"),
    )


def _peers(rng: np.random.Generator, n: int, log_weights: np.ndarray) -> list[Person]:
    """Peers both want and offer: a seeker's wishes plus a mentor's expertise."""
    fields = _seeker_fields(rng, n, log_weights, PEER_LEVELS)
    rows = log_weights[fields["department"]]
    fields["expertise"] = _sample_sets(rng, rows, rng.integers(3, 8, size=n))
    fields["offer"] = _sample_sets(rng, rows, rng.integers(2, 6, size=n))
    user_ids = np.arange(1, n + 1) + USER_ID_OFFSET
    chains = _reporting_chains(
        rng,
        departments=fields["department"],
        levels=fields["level"],
        boss_departments=fields["department"],
        boss_levels=fields["level"],
        boss_user_ids=user_ids,
    )
    return [_person(i + 1, "peer", fields, i, reporting_chain=chains[i]) for i in range(n)]
