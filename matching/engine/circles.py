"""Circle mode: small groups of `circle_size` people — one or two mentors and their mentees —
formed so that each mentee fits the circle's mentors and members share development areas.

Steps:

1. How many circles: G = min(mentors // M, ceil(mentees / seats)), where M is
   `mentors_per_circle` and seats = `circle_size` - M places for mentees in each circle.
2. Who leads, when there are more mentors than G x M: the mentors the whole-cohort assignment
   would use most if every mentor led a circle (their total fit to the mentees it gives them),
   so a mentor who is everyone's second choice does not push out the expert a cluster needs.
3. With two mentors per circle, the leaders are paired so that each circle's two mentors cover
   as much expertise between them as possible (the most-complementary pairing, solved as a
   matching with `peer.best_pairs`).
4. Mentees to circles. A mentee's fit to a circle is the mean of their scores with its mentors;
   a circle is off limits if a hard rule forbids any of its mentors. The objective is

       sum of mentee fits + SHARED_WEIGHT x 2 / (seats - 1) x sum over pairs of members in the
       same circle of the similarity of their development areas

   (similarity: |A ∩ B| / sqrt(|A| |B|), 0..1; the factor makes a circle whose members all
   want the same things worth SHARED_WEIGHT more per mentee). Grouping people by shared
   interests is a quadratic assignment problem and NP-hard, so this is a heuristic: first the
   exact best assignment of mentees to seats on mentor fit alone (scipy's assignment solver,
   the same as one-to-one mode), then local search — move a mentee to a free seat, or swap two
   mentees between circles — while it improves the whole objective. The mentor-fit part is
   optimal before the local search; the local search trades some of it for shared interests
   only where the total gains.

A circle's `score` is (mean mentor fit of its members + SHARED_WEIGHT x mean development
similarity between its members) / (1 + SHARED_WEIGHT): 0..1, like a pair's score.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Sequence

import numpy as np

from . import scoring, solve
from .matrix import blocking_rule, scored_matrix
from .peer import best_pairs
from .types import Circle, MatchResult, MatchSettings, Pair, Person, Progress, Unmatched

SHARED_WEIGHT = 0.5  # how much shared development counts against mentor fit, per mentee
_PREFER_SEAT = 1e-6  # a mentee who fits a circle at 0 still takes a free seat
_TOLERANCE = 1e-9
_MAX_ROUNDS = 500  # each round applies every independent improving move; few are needed


def _no_progress(percent: int, message: str) -> None:
    return None


def match_circles(
    *,
    mentors: Sequence[Person],
    mentees: Sequence[Person],
    settings: MatchSettings,
    progress: Progress = _no_progress,
) -> MatchResult:
    """Form circles. Deterministic: the same people and settings give the same circles.

    `mentors` and `mentees` sorted by id. Raises ValueError for settings no circle can meet
    (other than one or two mentors a circle, or no seat left for a mentee): the settings form
    is where a coordinator hears about those."""
    started = time.perf_counter()
    per_circle = settings.mentors_per_circle
    seats = settings.circle_size - per_circle
    if per_circle not in (1, 2):
        raise ValueError("A circle has one or two mentors.")
    if seats < 1:
        raise ValueError("A circle must have room for at least one mentee besides its mentors.")
    mentors, mentees = list(mentors), list(mentees)
    count = min(len(mentors) // per_circle, math.ceil(len(mentees) / seats))
    stats: dict[str, float] = {"mentors": len(mentors), "mentees": len(mentees)}
    if count == 0:
        progress(100, "Done")
        return MatchResult(
            pairs=[],
            unmatched=_no_circles(mentors, mentees, per_circle),
            objective_value=0.0,
            alternatives={},
            stats=stats,
        )

    progress(5, "Scoring every mentor for every mentee")
    scores, masks, text = scored_matrix(mentees, mentors, settings)
    feasible = scores >= 0
    mentor_index = {p.id: j for j, p in enumerate(mentors)}
    mentee_index = {p.id: i for i, p in enumerate(mentees)}
    locked = [
        (mentor_index[a], mentee_index[b])
        for a, b in settings.locked_pairs
        if a in mentor_index and b in mentee_index
    ]

    stats["scoring_seconds"] = time.perf_counter() - started

    progress(30, "Choosing who leads each circle")
    leaders = _choose_leaders(scores, count * per_circle, seats, per_circle, locked)
    groups = _group_leaders(leaders, mentors, per_circle)

    progress(50, "Placing mentees in circles")
    circle_fit = _circle_fit(scores, groups)
    similarity = _development_similarity(mentees)
    placement = _place(circle_fit, similarity, seats, groups, locked, settings.objective)
    stats["solving_seconds"] = time.perf_counter() - started

    progress(85, "Explaining each circle")
    circles, pairs = [], []
    locked_pairs = {(mentors[j].id, mentees[i].id) for j, i in locked}
    for c, group in enumerate(groups):
        members = np.nonzero(placement == c)[0]
        if members.size == 0:
            continue  # nobody could join: its mentors are reported unused below
        circles.append(_circle(group, members, circle_fit[:, c], similarity, mentors, mentees))
        for j in group:
            for i in members:
                parts, shared = scoring.pair_components(
                    mentees[i], mentors[j], settings, float(text[i, j]) if text is not None else 0.0
                )
                pairs.append(
                    Pair(
                        mentor_id=mentors[j].id,
                        mentee_id=mentees[i].id,
                        score=round(scoring.pair_score(parts, settings.weights), 6),
                        components=parts,
                        shared=shared,
                        locked=(mentors[j].id, mentees[i].id) in locked_pairs,
                    )
                )
    leading = {
        j for circle, group in enumerate(groups) if (placement == circle).any() for j in group
    }
    unmatched = _unmatched(
        mentors, mentees, feasible, masks, circle_fit, placement, groups, leading, seats
    )
    stats["circles"] = len(circles)
    stats["seconds"] = time.perf_counter() - started
    progress(100, "Done")
    return MatchResult(
        pairs=pairs,
        unmatched=unmatched,
        objective_value=round(sum(c.score for c in circles), 6),
        alternatives={},
        circles=circles,
        stats=stats,
    )


# --- Leaders -------------------------------------------------------------------------------------


def _choose_leaders(
    scores: np.ndarray,
    needed: int,
    seats: int,
    per_circle: int,
    locked: list[tuple[int, int]],
) -> list[int]:
    """The `needed` mentors (indices, sorted) who lead circles (see the module docstring, step
    2). Mentors of locked pairs always lead."""
    n_mentors = scores.shape[1]
    if n_mentors <= needed:
        return list(range(n_mentors))
    # Every mentor leading a circle of their own, with their share of a circle's seats.
    share = max(1, math.ceil(seats / per_circle))
    assignment = solve.assign(scores, np.full(n_mentors, share, dtype=np.int64), per_row=n_mentors)
    rows = np.nonzero(assignment >= 0)[0]
    used = np.bincount(
        assignment[rows], weights=scores[rows, assignment[rows]], minlength=n_mentors
    )
    total = np.where(scores >= 0, scores, 0).sum(axis=0)  # breaks ties: the broader fit leads
    must = {j for j, _ in locked}
    order = sorted(range(n_mentors), key=lambda j: (j not in must, -used[j], -total[j], j))
    return sorted(order[:needed])


def _group_leaders(leaders: list[int], mentors: list[Person], per_circle: int) -> list[list[int]]:
    """Leaders by circle. Two per circle: the pairing that covers the most expertise."""
    if per_circle == 1:
        return [[j] for j in leaders]
    expertise = [mentors[j].expertise for j in leaders]
    size = len(leaders)
    union = np.array(
        [[len(expertise[a] | expertise[b]) for b in range(size)] for a in range(size)],
        dtype=np.float64,
    )
    # Every two leaders may co-lead, so "coverage" pairs them all; the union size decides how.
    partner = best_pairs(
        union / max(union.max(), 1.0), np.ones((size, size), dtype=bool), objective="coverage"
    )
    return [[leaders[a], leaders[int(partner[a])]] for a in range(size) if partner[a] > a]


# --- Placing mentees -----------------------------------------------------------------------------


def _circle_fit(scores: np.ndarray, groups: list[list[int]]) -> np.ndarray:
    """Mentees x circles: the mean score with the circle's mentors, -inf if a rule forbids any
    of them."""
    fit = np.empty((scores.shape[0], len(groups)))
    for c, group in enumerate(groups):
        block = scores[:, group].astype(np.float64)
        fit[:, c] = np.where((block >= 0).all(axis=1), block.mean(axis=1), -np.inf)
    return fit


def _development_similarity(mentees: list[Person]) -> np.ndarray:
    """|A ∩ B| / sqrt(|A| |B|) of every two mentees' development areas; 0 on the diagonal."""
    terms = sorted(set().union(*(p.develop for p in mentees)))
    if not terms:
        return np.zeros((len(mentees), len(mentees)))
    column = {t: k for k, t in enumerate(terms)}
    onehot = np.zeros((len(mentees), len(terms)))
    for i, person in enumerate(mentees):
        onehot[i, [column[t] for t in person.develop]] = 1.0
    shared = onehot @ onehot.T
    sizes = np.sqrt(np.maximum(onehot.sum(axis=1), 1.0))
    similarity = shared / sizes[:, None] / sizes[None, :]
    np.fill_diagonal(similarity, 0.0)
    return similarity


def _place(
    circle_fit: np.ndarray,
    similarity: np.ndarray,
    seats: int,
    groups: list[list[int]],
    locked: list[tuple[int, int]],
    objective: str,
) -> np.ndarray:
    """Each mentee's circle, or -1 (see the module docstring, step 4)."""
    n, n_circles = circle_fit.shape
    placement = np.full(n, solve.UNASSIGNED, dtype=np.int64)
    capacity = np.full(n_circles, seats, dtype=np.int64)
    circle_of_leader = {j: c for c, group in enumerate(groups) for j in group}
    pinned = np.zeros(n, dtype=bool)
    for j, i in locked:
        c = circle_of_leader.get(j)
        if c is not None and not pinned[i] and capacity[c] > 0:
            placement[i] = c
            capacity[c] -= 1
            pinned[i] = True
    free = np.nonzero(~pinned)[0]
    if free.size:
        fit = np.where(np.isfinite(circle_fit[free]), circle_fit[free], scoring.INFEASIBLE)
        placement[free] = solve.assign(fit, capacity, objective=objective, per_row=n_circles)
    _improve(placement, circle_fit, similarity, seats, pinned)
    return placement


def _improve(
    placement: np.ndarray,
    circle_fit: np.ndarray,
    similarity: np.ndarray,
    seats: int,
    pinned: np.ndarray,
) -> None:
    """Local search, in place: move a mentee to a free seat or swap two mentees of different
    circles (an unplaced mentee counts as in an extra "circle" with no fit and no company)
    while the objective improves. Each round applies the best moves that touch different
    circles, so every gain it computed still holds when applied."""
    n, n_circles = circle_fit.shape
    if n == 0:
        return
    outside = n_circles  # the extra column: not placed
    pair_weight = SHARED_WEIGHT * 2.0 / max(seats - 1, 1)
    fit = np.concatenate(
        [np.where(np.isfinite(circle_fit), circle_fit + _PREFER_SEAT, -np.inf), np.zeros((n, 1))],
        axis=1,
    )
    movable = ~pinned
    for _ in range(_MAX_ROUNDS):
        where = np.where(placement >= 0, placement, outside)
        membership = np.zeros((n, n_circles + 1))
        membership[np.arange(n), where] = 1.0
        company = similarity @ membership
        company[:, outside] = 0.0  # the unplaced are not a group
        value = fit + pair_weight * company  # what each mentee would be worth in each circle
        own = value[np.arange(n), where]
        free_seats = seats - membership[:, :n_circles].sum(axis=0)
        real = (where != outside).astype(np.float64)

        moves: list[tuple[float, int, int, int]] = []  # gain, mentee, other mentee or -1, circle
        gain = value - own[:, None]
        gain[:, :n_circles][:, free_seats <= 0] = -np.inf
        gain[np.arange(n), where] = -np.inf
        gain[~movable] = -np.inf
        for i, c in zip(*np.nonzero(gain > _TOLERANCE), strict=True):
            moves.append((float(gain[i, c]), int(i), -1, int(c)))
        # Swaps: i takes j's place and j takes i's; each loses the other's company.
        across = value[:, where] - own[:, None]  # i moving into j's circle
        swap = across + across.T - pair_weight * similarity * (real[:, None] + real[None, :])
        blocked = (where[:, None] == where[None, :]) | ~movable[:, None] | ~movable[None, :]
        swap[blocked] = -np.inf
        swap = np.triu(swap, 1)
        for i, j in zip(*np.nonzero(swap > _TOLERANCE), strict=True):
            moves.append((float(swap[i, j]), int(i), int(j), int(where[j])))
        if not moves:
            return
        moves.sort(key=lambda move: (-move[0], move[1], move[2], move[3]))
        touched: set[int] = set()
        for _gain, i, j, c in moves:
            circles = {int(where[i]), c} - {outside}
            if not touched.isdisjoint(circles):
                continue
            touched |= circles
            if j == -1:
                placement[i] = c if c != outside else solve.UNASSIGNED
            else:
                placement[i], placement[j] = placement[j], placement[i]


# --- The result ----------------------------------------------------------------------------------


def _circle(
    group: list[int],
    members: np.ndarray,
    fit: np.ndarray,
    similarity: np.ndarray,
    mentors: list[Person],
    mentees: list[Person],
) -> Circle:
    mean_fit = float(fit[members].mean())
    if members.size > 1:
        block = similarity[np.ix_(members, members)]
        mean_shared = float(block.sum() / (members.size * (members.size - 1)))
    else:
        mean_shared = 0.0
    wanted = Counter(t for i in members for t in mentees[i].develop)
    return Circle(
        mentor_ids=tuple(mentors[j].id for j in group),
        member_ids=tuple(mentees[i].id for i in members),
        score=round((mean_fit + SHARED_WEIGHT * mean_shared) / (1 + SHARED_WEIGHT), 6),
        shared_development=tuple(sorted(t for t, k in wanted.items() if k >= 2)),
    )


def _no_circles(mentors: list[Person], mentees: list[Person], per_circle: int) -> list[Unmatched]:
    """Why nobody is in a circle, when not one circle can be formed."""
    if not mentors:
        code, reason = "no_mentors", "the cohort has no approved mentors"
    else:
        code = "not_enough_mentors"
        reason = f"circles need {per_circle} mentors each and the cohort has {len(mentors)}"
    unmatched = [Unmatched(person_id=p.id, reason_code=code, reason=reason) for p in mentees]
    for mentor in mentors:
        if not mentees:
            code, reason = "no_mentees", "the cohort has no mentees"
        unmatched.append(Unmatched(person_id=mentor.id, reason_code=code, reason=reason))
    return unmatched


def _unmatched(
    mentors: list[Person],
    mentees: list[Person],
    feasible: np.ndarray,
    masks: dict[str, np.ndarray],
    circle_fit: np.ndarray,
    placement: np.ndarray,
    groups: list[list[int]],
    leading: set[int],
    seats: int,
) -> list[Unmatched]:
    unmatched = []
    for i in np.nonzero(placement == solve.UNASSIGNED)[0]:
        open_circles = int(np.isfinite(circle_fit[i]).sum())
        if not feasible[i].any():
            code, reason = blocking_rule(int(i), masks)
        elif open_circles == 0:
            code = "no_eligible_circle"
            reason = (
                "every circle has a mentor they may not be matched with"
                if len(groups[0]) > 1
                else "the mentors they may be matched with do not lead a circle"
            )
        else:
            code = "capacity"
            reason = (
                f"every seat in the {open_circles} circle{'s' if open_circles != 1 else ''} "
                f"they could join is taken ({seats} mentees a circle)"
            )
        unmatched.append(Unmatched(person_id=mentees[i].id, reason_code=code, reason=reason))
    for j, mentor in enumerate(mentors):
        if j in leading:
            continue
        if not feasible[:, j].any():
            code, reason = "no_eligible_mentee", "no mentee may be matched with them"
        elif any(j in group for group in groups):
            code, reason = "no_eligible_mentee", "no mentee could join the circle they would lead"
        else:
            code, reason = (
                "not_needed",
                "enough mentors lead circles; the cohort's mentees fit the others better",
            )
        unmatched.append(Unmatched(person_id=mentor.id, reason_code=code, reason=reason))
    return unmatched
