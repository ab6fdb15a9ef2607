"""`match()`: the one entry point the app and the benchmark call."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import scoring, solve
from .circles import match_circles
from .matrix import blocking_rule, scored_matrix
from .peer import match_peers
from .types import (
    Alternative,
    MatchResult,
    MatchSettings,
    Pair,
    Person,
    Progress,
    Unmatched,
)


def _no_progress(percent: int, message: str) -> None:
    return None


def match(
    *,
    people: Sequence[Person],
    settings: MatchSettings,
    progress: Progress = _no_progress,
    text_of: dict[int, str] | None = None,
) -> MatchResult:
    """Match a cohort. Deterministic: the same people and settings give the same result."""
    if settings.mode == "peer":
        return match_peers(people=people, settings=settings, progress=progress)
    mentors = sorted((p for p in people if p.role == "mentor"), key=lambda p: p.id)
    mentees = sorted((p for p in people if p.role == "mentee"), key=lambda p: p.id)
    if settings.mode == "circle":
        return match_circles(mentors=mentors, mentees=mentees, settings=settings, progress=progress)
    return _match_bipartite(mentors=mentors, mentees=mentees, settings=settings, progress=progress)


def _match_bipartite(
    *,
    mentors: list[Person],
    mentees: list[Person],
    settings: MatchSettings,
    progress: Progress,
) -> MatchResult:
    started = time.perf_counter()
    stats: dict[str, float] = {"mentors": len(mentors), "mentees": len(mentees)}
    if not mentors or not mentees:
        return _nobody_to_match(mentors, mentees, stats)
    mentor_index = {p.id: j for j, p in enumerate(mentors)}
    mentee_index = {p.id: i for i, p in enumerate(mentees)}
    capacities = np.array([max(p.capacity, 0) for p in mentors], dtype=np.int64)

    locked = [
        (mentor_index[a], mentee_index[b])
        for a, b in settings.locked_pairs
        if a in mentor_index and b in mentee_index
    ]
    locked_rows = {i for _, i in locked}
    for j, _ in locked:
        capacities[j] = max(capacities[j] - 1, 0)

    progress(5, "Scoring every mentor for every mentee")
    scores, masks, text = scored_matrix(mentees, mentors, settings)
    stats["scoring_seconds"] = time.perf_counter() - started

    progress(40, "Finding the best assignment for the whole cohort")
    solving_started = time.perf_counter()
    free_rows = np.array([i for i in range(len(mentees)) if i not in locked_rows], dtype=np.int64)
    assignment = np.full(len(mentees), solve.UNASSIGNED, dtype=np.int64)
    if free_rows.size:
        assignment[free_rows] = solve.assign(
            scores[free_rows],
            capacities,
            objective=settings.objective,
            per_row=settings.candidates_per_mentee,
        )
    for j, i in locked:
        assignment[i] = j
    stats["solving_seconds"] = time.perf_counter() - solving_started

    progress(85, "Explaining each pair")
    pairs = []
    for i, assigned in enumerate(assignment):
        if assigned == solve.UNASSIGNED:
            continue
        j = int(assigned)
        parts, shared = scoring.pair_components(
            mentees[i], mentors[j], settings, float(text[i, j]) if text is not None else 0.0
        )
        # A locked pair may break a rule set after it was accepted; it keeps its real score.
        score = scoring.pair_score(parts, settings.weights)
        pairs.append(
            Pair(
                mentor_id=mentors[j].id,
                mentee_id=mentees[i].id,
                score=round(score, 6),
                components=parts,
                shared=shared,
                locked=i in locked_rows,
            )
        )

    used = np.bincount(assignment[assignment >= 0], minlength=len(mentors))
    total_capacity = np.array([max(p.capacity, 0) for p in mentors], dtype=np.int64)
    spare = total_capacity - used
    alternatives = _alternatives(scores, assignment, mentors, mentees, spare, settings.alternatives)
    unmatched = _unmatched_reasons(scores, masks, assignment, mentors, mentees, spare)
    stats["seconds"] = time.perf_counter() - started
    progress(100, "Done")
    return MatchResult(
        pairs=pairs,
        unmatched=unmatched,
        objective_value=round(sum(p.score for p in pairs), 6),
        alternatives=alternatives,
        stats=stats,
    )


def _nobody_to_match(
    mentors: list[Person], mentees: list[Person], stats: dict[str, float]
) -> MatchResult:
    """One side is empty: say so for everyone on the other side."""
    unmatched = [
        Unmatched(
            person_id=p.id, reason_code="no_mentors", reason="the cohort has no approved mentors"
        )
        for p in mentees
    ] + [
        Unmatched(
            person_id=p.id, reason_code="no_mentees", reason="the cohort has no approved mentees"
        )
        for p in mentors
    ]
    return MatchResult(
        pairs=[], unmatched=unmatched, objective_value=0.0, alternatives={}, stats=stats
    )


def _alternatives(
    scores: np.ndarray,
    assignment: np.ndarray,
    mentors: list[Person],
    mentees: list[Person],
    spare: np.ndarray,
    count: int,
) -> dict[int, list[Alternative]]:
    """Each mentee's next-best mentors (not the one they got), best first."""
    if count <= 0 or not mentors:
        return {}
    k = min(count + 1, len(mentors))
    # Hide each mentee's own mentor in place (and put the scores back after), rather than copy
    # a matrix that can be hundreds of megabytes.
    rows = np.nonzero(assignment >= 0)[0]
    own = scores[rows, assignment[rows]].copy()
    scores[rows, assignment[rows]] = scoring.INFEASIBLE
    masked = scores
    top = solve.top_per_row(masked, k)
    result: dict[int, list[Alternative]] = {}
    for i, candidates in enumerate(top):
        ranked = sorted(
            (j for j in candidates if masked[i, j] >= 0), key=lambda j: (-masked[i, j], j)
        )[:count]
        result[mentees[i].id] = [
            Alternative(
                mentor_id=mentors[j].id,
                score=round(float(masked[i, j]), 6),
                has_capacity=bool(spare[j] > 0),
            )
            for j in ranked
        ]
    scores[rows, assignment[rows]] = own
    return result


def _unmatched_reasons(
    scores: np.ndarray,
    masks: dict[str, np.ndarray],
    assignment: np.ndarray,
    mentors: list[Person],
    mentees: list[Person],
    spare: np.ndarray,
) -> list[Unmatched]:
    unmatched = []
    feasible = scores >= 0
    capacities = np.array([max(p.capacity, 0) for p in mentors], dtype=np.int64)
    for i in np.nonzero(assignment == solve.UNASSIGNED)[0]:
        mentee = mentees[i]
        if not mentors:
            code, reason = "no_mentors", "the cohort has no approved mentors"
        elif not capacities.any():
            code, reason = "no_capacity", "every mentor has a capacity of 0"
        elif not feasible[i].any():
            code, reason = blocking_rule(int(i), masks)
        else:
            eligible = int(feasible[i].sum())
            code = "capacity"
            reason = (
                f"demand is above capacity: the {eligible} mentor"
                f"{'s' if eligible != 1 else ''} who could take them "
                f"{'are' if eligible != 1 else 'is'} full"
            )
        unmatched.append(Unmatched(person_id=mentee.id, reason_code=code, reason=reason))
    used = capacities - spare
    for j, mentor in enumerate(mentors):
        if used[j] == 0:
            if capacities[j] == 0:
                code, reason = "no_capacity", "their capacity is 0"
            elif not feasible[:, j].any():
                code, reason = "no_eligible_mentee", "no mentee may be matched with them"
            else:
                code, reason = (
                    "not_needed",
                    "every mentee who could take them fits better elsewhere",
                )
            unmatched.append(Unmatched(person_id=mentor.id, reason_code=code, reason=reason))
    return unmatched


@dataclass
class Prematch:
    """Before a run: who has nobody eligible, and what relaxing one rule would change."""

    blocked: list[Unmatched]
    # rule → ids of the blocked people who would have someone if that rule were relaxed
    relaxations: dict[str, list[int]]
    eligible_counts: dict[int, int]  # person id → how many partners the rules allow


def prematch(*, people: Sequence[Person], settings: MatchSettings) -> Prematch:
    """Check the hard rules without solving anything. Peers are checked against the pool."""
    if settings.mode == "peer":
        pool = sorted((p for p in people if p.role == "peer"), key=lambda p: p.id)
        sides = [(pool, pool)]
    else:
        mentors = sorted((p for p in people if p.role == "mentor"), key=lambda p: p.id)
        mentees = sorted((p for p in people if p.role == "mentee"), key=lambda p: p.id)
        sides = [(mentees, mentors)]
    rows, cols = sides[0]
    if not rows or not cols:
        code, reason = (
            ("no_mentors", "the cohort has no approved mentors")
            if not cols
            else (
                "no_mentees",
                "the cohort has no approved mentees",
            )
        )
        nobody = [
            Unmatched(person_id=p.id, reason_code=code, reason=reason) for p in (rows or cols)
        ]
        return Prematch(blocked=nobody, relaxations={}, eligible_counts={})
    masks = scoring.rule_masks(rows, cols, settings)
    if settings.mode == "peer":
        masks = {name: mask & mask.T for name, mask in masks.items()}  # both ways, as pairs are
    feasible = scoring.feasible_matrix(masks, (len(rows), len(cols)))
    eligible_counts = {p.id: int(feasible[i].sum()) for i, p in enumerate(rows)}
    if settings.mode != "peer":
        eligible_counts.update({p.id: int(feasible[:, j].sum()) for j, p in enumerate(cols)})
    blocked: list[Unmatched] = []
    relaxations: dict[str, list[int]] = {name: [] for name in scoring.RELAXABLE_RULES}
    for i, person in enumerate(rows):
        if feasible[i].any():
            continue
        code, reason = blocking_rule(i, masks)
        blocked.append(Unmatched(person_id=person.id, reason_code=code, reason=reason))
        for name in relaxations:
            if name in masks:
                others = np.ones(len(cols), dtype=bool)
                for other, mask in masks.items():
                    if other != name:
                        others &= mask[i]
                if others.any():
                    relaxations[name].append(person.id)
    if settings.mode != "peer":
        for j, person in enumerate(cols):
            if not feasible[:, j].any():
                blocked.append(
                    Unmatched(
                        person_id=person.id,
                        reason_code="no_eligible_mentee",
                        reason="the rules allow no mentee to be matched with them",
                    )
                )
    return Prematch(
        blocked=blocked,
        relaxations={k: v for k, v in relaxations.items() if v},
        eligible_counts=eligible_counts,
    )
