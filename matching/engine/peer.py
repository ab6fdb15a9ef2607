"""Peer mode: people at a similar level pair up inside one pool and mentor each other.

A pair is scored both ways — how well each offers what the other seeks — and its weight is the
mean of the two directions, so it is symmetric. A pair is allowed only if the hard rules allow
it in both directions. Each peer is in at most one pair.

Finding the best pairs is a maximum-weight matching in a general (non-bipartite) graph. The
exact algorithm (Edmonds' weighted blossoms, networkx's `max_weight_matching`) takes seconds
in Python at 300 people and minutes at 1,000, so `best_pairs` does this instead:

1. Bipartite relaxation. Every peer is a row and a column of a square assignment problem whose
   value is the pair weight and whose diagonal means "unpaired"; scipy's exact
   `linear_sum_assignment` solves it. Every matching read both ways is an assignment, so half
   its optimum bounds the best matching's weight from above (reported as `upper_bound`).
2. The assignment is a permutation: its 2-cycles are pairs, its fixed points singles. A longer
   even cycle splits into its better half of alternate edges (no loss: at the optimum both
   halves weigh the same); an odd cycle loses one person, the one whose leaving costs least.
3. Vectorised local search: swap partners between two pairs, pair two singles, put a single in
   place of someone in a pair, or pair two singles with the two people of one pair. Improving
   moves that touch different people are applied together, best first, until none is left.
4. "coverage" only: Edmonds' blossom algorithm for cardinality adds pairs along augmenting
   paths until none is left, so the number of pairs is the true maximum.
5. Ejection chains (Lin and Kernighan's idea, for matchings): from each person, search the
   alternating paths and cycles — break a pair, give the freed person a new partner, whose
   old partner is freed in turn — for one that improves the total, and apply it. A matching
   is optimal exactly when no such path or cycle exists; this search is bounded in depth,
   breadth and steps, so it finds nearly all of them. The step bounds are counts, not
   seconds, so a slow machine gives the same pairs.

Measured (tests/matching/test_peer.py, bench figures in the report): the exact optimum on
every small pool tried against brute force; at least 0.9997 of networkx's optimum at 150 and
300 people, usually exactly it; 1,000 peers in well under a second, where the bound of step
1 certifies at least 0.998 of the optimum. "coverage" adds a bonus to every pair larger than
the weight of any whole matching, so steps 1-3 maximise the number of pairs first, then the
weight; step 5 then moves only between matchings with as many pairs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import cast

import numpy as np
from scipy.optimize import linear_sum_assignment

from . import scoring
from .types import (
    COMPONENTS,
    Alternative,
    MatchResult,
    MatchSettings,
    Pair,
    Person,
    Progress,
    Unmatched,
)

UNPAIRED = -1
_PREFER_PAIRING = 1e-6  # two feasible peers scoring 0 still pair rather than both sit out
_TOLERANCE = 1e-9  # a move must gain more than rounding noise, or the search could cycle
_MAX_ROUNDS = 200  # each round applies every independent improving move; a few usually suffice

# Why a peer has nobody to pair with, in words a coordinator can act on.
PEER_RULE_REASONS = {
    "same_person": "the only other peers are their own enrolments",
    "reporting_chain": "every peer who could pair with them is in their reporting chain",
    "past_partner": "every eligible peer has been their partner before",
    "excluded": "you excluded every peer who could pair with them",
    "language": "no other peer speaks their language",
    "time_zone": "no other peer is within the time-zone limit",
    "level_direction": "no other peer is at a similar enough level",
}


def _no_progress(percent: int, message: str) -> None:
    return None


def match_peers(
    *, people: Sequence[Person], settings: MatchSettings, progress: Progress = _no_progress
) -> MatchResult:
    """Pair the cohort's peers. Deterministic: the same people and settings give the same pairs.
    Locked pairs are kept as they are, even if a rule set since would now forbid them."""
    started = time.perf_counter()
    pool = sorted((p for p in people if p.role == "peer"), key=lambda p: p.id)
    n = len(pool)
    stats: dict[str, float] = {"peers": n}
    if n == 0:
        # Nothing to score (and scoring's matrices do not take empty sides).
        progress(100, "Done")
        return MatchResult(
            pairs=[], unmatched=[], objective_value=0.0, alternatives={}, stats=stats
        )

    progress(5, "Scoring every peer for every other peer")
    text = None
    if settings.weights.text > 0:
        texts = [p.text for p in pool]
        text = scoring.text_similarity_matrix(texts, texts)
    directed = scoring.score_matrix(pool, pool, settings, text_similarity=text)
    weights = (directed.astype(np.float64) + directed.T.astype(np.float64)) / 2
    # A rule must allow the pair whichever of the two is seen as the mentee.
    masks = {name: mask & mask.T for name, mask in scoring.rule_masks(pool, pool, settings).items()}
    feasible = scoring.feasible_matrix(masks, (n, n))
    np.fill_diagonal(feasible, False)
    stats["scoring_seconds"] = time.perf_counter() - started

    partner = np.full(n, UNPAIRED, dtype=np.int64)
    locked = _locked_indices(pool, settings)
    for a, b in locked:
        partner[a], partner[b] = b, a

    progress(40, "Pairing peers so each offers what the other seeks")
    solving_started = time.perf_counter()
    free = np.nonzero(partner == UNPAIRED)[0]
    found = best_pairs(
        weights[np.ix_(free, free)],
        feasible[np.ix_(free, free)],
        objective=settings.objective,
        stats=stats,
    )
    paired = found != UNPAIRED
    partner[free[paired]] = free[found[paired]]
    # stats["upper_bound"] (from best_pairs) covers the pairs the engine chose, not locked ones.
    stats["solving_seconds"] = time.perf_counter() - solving_started

    progress(85, "Explaining each pair")
    locked_people = {a for pair in locked for a in pair}
    pairs = [
        _pair(
            pool[i], pool[int(partner[i])], settings, text, i, int(partner[i]), i in locked_people
        )
        for i in range(n)
        if partner[i] > i
    ]
    result = MatchResult(
        pairs=pairs,
        unmatched=_unmatched(pool, partner, feasible, masks, settings),
        objective_value=round(sum(p.score for p in pairs), 6),
        alternatives=_alternatives(pool, partner, weights, feasible, settings.alternatives),
        stats=stats,
    )
    stats["pairs"] = len(pairs)
    stats["seconds"] = time.perf_counter() - started
    progress(100, "Done")
    return result


def _locked_indices(pool: list[Person], settings: MatchSettings) -> list[tuple[int, int]]:
    """The locked pairs among this pool's peers, as indices. A peer named in two locked pairs
    keeps the first: nobody can be in two pairs."""
    index = {p.id: i for i, p in enumerate(pool)}
    taken: set[int] = set()
    locked = []
    for a, b in settings.locked_pairs:
        if a in index and b in index and a != b and not taken & {a, b}:
            taken.update((a, b))
            locked.append((index[a], index[b]))
    return locked


def _pair(
    one: Person,
    other: Person,
    settings: MatchSettings,
    text: np.ndarray | None,
    i: int,
    j: int,
    locked: bool,
) -> Pair:
    """The pair as the app shows it: each part the mean of the two directions, and everything
    either of them offers that the other wants."""
    similarity = float(text[i, j]) if text is not None else 0.0
    parts_one, shared_one = scoring.pair_components(one, other, settings, similarity)
    parts_other, shared_other = scoring.pair_components(other, one, settings, similarity)
    score = (
        scoring.pair_score(parts_one, settings.weights)
        + scoring.pair_score(parts_other, settings.weights)
    ) / 2
    first, second = sorted((one, other), key=lambda p: p.id)
    return Pair(
        mentor_id=first.id,
        mentee_id=second.id,
        score=round(score, 6),
        components={name: (parts_one[name] + parts_other[name]) / 2 for name in COMPONENTS},
        shared={
            kind: tuple(sorted(set(shared_one[kind]) | set(shared_other[kind])))
            for kind in ("development", "skills")
        },
        locked=locked,
    )


def _unmatched(
    pool: list[Person],
    partner: np.ndarray,
    feasible: np.ndarray,
    masks: dict[str, np.ndarray],
    settings: MatchSettings,
) -> list[Unmatched]:
    unmatched = []
    for i in np.nonzero(partner == UNPAIRED)[0]:
        eligible = int(feasible[i].sum())
        if len(pool) == 1:
            code, reason = "no_eligible_peer", "they are the only peer in the cohort"
        elif eligible == 0:
            rule = _blocking_rule(int(i), masks)
            code = "no_eligible_peer"
            if rule == "level_direction" and settings.rules.max_peer_level_gap is not None:
                gap = settings.rules.max_peer_level_gap
                reason = f"no other peer is within {gap} level{'s' if gap != 1 else ''} of them"
            elif rule in PEER_RULE_REASONS:
                reason = PEER_RULE_REASONS[rule]
            else:
                reason = f"{rule} together rule out every other peer"
        else:
            code = "odd_one_out"
            reason = (
                f"the {eligible} peer{'s' if eligible != 1 else ''} they could pair with "
                f"{'are' if eligible != 1 else 'is'} already paired"
            )
        unmatched.append(Unmatched(person_id=pool[i].id, reason_code=code, reason=reason))
    return unmatched


def _blocking_rule(row: int, masks: dict[str, np.ndarray]) -> str:
    """The rule that alone rules out every other peer, or the rules that do it together (as
    words). Like the one-to-one engine's, but a peer's own column never counts."""
    others = np.ones(next(iter(masks.values())).shape[1], dtype=bool)
    others[row] = False
    for name in masks:
        allowed = others.copy()
        for other in masks:
            if other != name:
                allowed &= masks[other][row]
        if allowed.any():
            return name
    blocking = [name for name in masks if not masks[name][row][others].all()]
    return " and ".join(name.replace("_", " ") for name in blocking) or "the rules"


def _alternatives(
    pool: list[Person],
    partner: np.ndarray,
    weights: np.ndarray,
    feasible: np.ndarray,
    count: int,
) -> dict[int, list[Alternative]]:
    """Each peer's next-best feasible peers (not their partner), best first, ties by id."""
    if count <= 0 or len(pool) < 2:
        return {}
    candidates = feasible.copy()
    paired = np.nonzero(partner != UNPAIRED)[0]
    candidates[paired, partner[paired]] = False
    ranked = np.where(candidates, weights, -np.inf)
    # The pool is sorted by id, so a stable sort breaks ties by id.
    order = np.argsort(-ranked, axis=1, kind="stable")[:, :count]
    return {
        person.id: [
            Alternative(
                mentor_id=pool[j].id,
                score=round(float(weights[i, j]), 6),
                has_capacity=bool(partner[j] == UNPAIRED),
            )
            for j in order[i]
            if candidates[i, j]
        ]
        for i, person in enumerate(pool)
    }


# --- The matching -------------------------------------------------------------------------------


def best_pairs(
    weights: np.ndarray,
    feasible: np.ndarray,
    *,
    objective: str = "score",
    stats: dict[str, float] | None = None,
) -> np.ndarray:
    """A (near-)maximum-weight matching of a symmetric graph.

    `weights`: n x n, symmetric, >= 0. `feasible`: n x n bool, symmetric, where a pair is
    allowed (the diagonal is ignored). "score" maximises the total weight; "coverage" the
    number of pairs first, then the weight. Returns each person's partner index, or -1.
    Under "score", `stats` (if given) gets "upper_bound": no matching weighs more."""
    n = len(weights)
    partner = np.full(n, UNPAIRED, dtype=np.int64)
    if n < 2:
        return partner
    allowed = np.array(feasible, dtype=bool)
    allowed &= allowed.T  # allowed only if allowed both ways: the search relies on symmetry
    np.fill_diagonal(allowed, False)
    if not allowed.any():
        return partner
    weight = np.where(allowed, np.asarray(weights, dtype=np.float64) + _PREFER_PAIRING, -np.inf)
    coverage = objective == "coverage"
    # Under "coverage" every pair is also worth a bonus larger than any matching's whole weight
    # (at most n/2), so one more pair always wins and the weights decide between equally large
    # matchings: the assignment and the vectorised moves then maximise both at once.
    value = weight + (float(n) + 1.0) if coverage else weight

    cost = np.where(allowed, -value, np.inf)
    np.fill_diagonal(cost, 0.0)  # staying unpaired: always possible, so a full assignment exists
    _, permutation = linear_sum_assignment(cost)
    if stats is not None and not coverage:
        moved = np.nonzero(permutation != np.arange(n))[0]
        stats["upper_bound"] = float(np.asarray(weights)[moved, permutation[moved]].sum() / 2)
    _pairs_from_cycles(permutation, value, partner)
    _improve(partner, value)
    if coverage:
        _augment_to_maximum(partner, allowed)
    # The chains search on the weights alone (a bonus would defeat their gain criterion);
    # under "coverage" they may not lose a pair.
    _chain_search(partner, weight, allowed, keep_count=coverage)
    _improve(partner, value)
    return partner


def _pairs_from_cycles(permutation: np.ndarray, value: np.ndarray, partner: np.ndarray) -> None:
    """Read the assignment's cycles as pairs (see the module docstring, step 2)."""
    seen = np.zeros(len(permutation), dtype=bool)
    for start in range(len(permutation)):
        if seen[start]:
            continue
        cycle = [start]
        seen[start] = True
        node = int(permutation[start])
        while node != start:
            cycle.append(node)
            seen[node] = True
            node = int(permutation[node])
        length = len(cycle)
        if length == 1:
            continue
        nodes = np.array(cycle)
        # edge k joins nodes[k] and nodes[k + 1], round the cycle
        edges = value[nodes, np.roll(nodes, -1)]
        if length % 2 == 0:
            first = 0 if edges[0::2].sum() >= edges[1::2].sum() else 1
            chosen = range(first, length, 2)
        else:
            # Leaving node k out keeps edges k+1, k+3, …, k+L-2: sums of every other edge over
            # the cycle laid out twice, read from prefix sums with a stride of two.
            doubled = np.concatenate([edges, edges])
            stride_sums = np.zeros(2 * length + 2)
            for parity in (0, 1):
                stride_sums[parity + 2 :: 2] = np.cumsum(doubled[parity::2])
            ks = np.arange(length)
            kept = stride_sums[ks + length] - stride_sums[ks + 1]
            left_out = int(np.argmax(kept))
            chosen = range(left_out + 1, left_out + length - 1, 2)
        for k in chosen:
            a, b = int(nodes[k % length]), int(nodes[(k + 1) % length])
            partner[a], partner[b] = b, a


def _improve(partner: np.ndarray, value: np.ndarray) -> None:
    """Local search (the module docstring's step 3), in place."""
    for _ in range(_MAX_ROUNDS):
        moves = _improving_moves(partner, value)
        if not moves:
            return
        moves.sort(key=lambda move: (-move[0], move[1]))
        touched: set[int] = set()
        for _gain, new_pairs, people in moves:
            if touched.isdisjoint(people):
                touched.update(people)
                for a in people:
                    partner[a] = UNPAIRED
                for a, b in new_pairs:
                    partner[a], partner[b] = b, a


Move = tuple[float, tuple[tuple[int, int], ...], tuple[int, ...]]


def _improving_moves(partner: np.ndarray, value: np.ndarray) -> list[Move]:
    """Every improving move of each kind, as (gain, new pairs, people it touches)."""
    index = np.arange(len(partner))
    firsts = index[(partner > index)]
    seconds = partner[firsts]
    singles = index[partner == UNPAIRED]
    pair_value = value[firsts, seconds]
    moves: list[Move] = []

    def add(gains: np.ndarray, build: Callable[..., tuple[tuple, tuple]]) -> None:
        for position in zip(*np.nonzero(gains > _TOLERANCE), strict=True):
            new_pairs, people = build(*position)
            moves.append((float(gains[position]), new_pairs, people))

    if len(firsts) >= 2:
        # Two pairs swap partners: (a, b), (c, d) → (a, c), (b, d) or (a, d), (b, c).
        a, b = firsts, seconds
        base = pair_value[:, None] + pair_value[None, :]
        upper = np.triu(np.ones((len(a), len(a)), dtype=bool), 1)
        cross = value[a[:, None], a[None, :]] + value[b[:, None], b[None, :]] - base
        add(
            np.where(upper, cross, -np.inf),
            lambda p, q: (((a[p], a[q]), (b[p], b[q])), (a[p], b[p], a[q], b[q])),
        )
        twist = value[a[:, None], b[None, :]] + value[b[:, None], a[None, :]] - base
        add(
            np.where(upper, twist, -np.inf),
            lambda p, q: (((a[p], b[q]), (b[p], a[q])), (a[p], b[p], a[q], b[q])),
        )
    if len(singles) >= 2:
        # Two singles pair up.
        s = singles
        together = np.triu(value[s[:, None], s[None, :]], 1)
        add(together, lambda p, q: (((s[p], s[q]),), (s[p], s[q])))
    if len(singles) and len(firsts):
        # A single takes someone's place in a pair: (a, b) + s → (s, b), a alone.
        ends = np.concatenate([firsts, seconds])
        stays = np.concatenate([seconds, firsts])
        replace = value[singles[:, None], stays[None, :]] - value[ends, stays][None, :]
        add(
            replace,
            lambda p, q: (((singles[p], stays[q]),), (singles[p], ends[q], stays[q])),
        )
    if len(singles) >= 2 and len(firsts):
        moves.extend(_augmenting_moves(firsts, seconds, singles, value, pair_value))
    return moves


def _augmenting_moves(
    firsts: np.ndarray,
    seconds: np.ndarray,
    singles: np.ndarray,
    value: np.ndarray,
    pair_value: np.ndarray,
) -> list[Move]:
    """Two singles each pair with one person of a pair: s, (a, b), t → (s, a), (b, t). For
    each pair, only each end's two best singles can matter, so this is linear, not cubic."""
    moves: list[Move] = []
    to_first = value[singles[:, None], firsts[None, :]]  # singles x pairs
    to_second = value[singles[:, None], seconds[None, :]]
    k = min(2, len(singles))
    best_first = np.argsort(-to_first, axis=0, kind="stable")[:k]  # k x pairs
    best_second = np.argsort(-to_second, axis=0, kind="stable")[:k]
    columns = np.arange(len(firsts))
    best_gain = np.full(len(firsts), -np.inf)
    best_choice = np.zeros((len(firsts), 2), dtype=np.int64)
    for x in range(k):
        for y in range(k):
            s_row, t_row = best_first[x], best_second[y]
            gain = to_first[s_row, columns] + to_second[t_row, columns] - pair_value
            gain = np.where(s_row == t_row, -np.inf, gain)
            better = gain > best_gain
            best_gain = np.where(better, gain, best_gain)
            best_choice[better] = np.stack([s_row, t_row], axis=1)[better]
    for p in np.nonzero(best_gain > _TOLERANCE)[0]:
        s, t = singles[best_choice[p, 0]], singles[best_choice[p, 1]]
        a, b = firsts[p], seconds[p]
        moves.append((float(best_gain[p]), ((s, a), (b, t)), (s, a, b, t)))
    return moves


# --- Ejection chains ----------------------------------------------------------------------------

_CHAIN_DEPTH = 8  # pairs broken along one chain
_CHAIN_BREADTH = 12  # the freed person's best neighbours tried as their next partner
# Steps (neighbours looked at) per start and in all: under "coverage" the pairing bonus makes
# almost every chain look promising, so counts, not the gain criterion, bound the search.
# Counts rather than seconds keep the result the same on a slow machine.
_CHAIN_STEPS_PER_START = 5_000
_CHAIN_STEPS = 600_000


def _neighbours(value: np.ndarray, allowed: np.ndarray) -> list[list[int]]:
    """Each person's feasible partners, best first (ties by index), as many as a chain tries."""
    order = np.argsort(-value, axis=1, kind="stable")[:, :_CHAIN_BREADTH]
    return [[int(j) for j in row if allowed[i, j]] for i, row in enumerate(order)]


def _chain_search(
    partner: np.ndarray, value: np.ndarray, allowed: np.ndarray, *, keep_count: bool
) -> None:
    """Ejection chains, in place: from every person in turn, look for an improving alternating
    path or cycle and apply the best found; repeat while a pass improves and steps are left."""
    neighbours = _neighbours(value, allowed)
    rows = value.tolist()  # plain floats: the search reads one value at a time
    mates = partner.tolist()
    # Unpaired people a chain can end at; anyone without a feasible partner never can.
    # `allowed` is 2-D, so a row-wise any() is an array (the stubs also allow a single bool).
    can_pair = cast("list[bool]", allowed.any(axis=1).tolist())
    singles = {v for v, mate in enumerate(mates) if mate == UNPAIRED and can_pair[v]}
    steps_left = _CHAIN_STEPS
    improved = True
    while improved and steps_left > 0:
        improved = False
        for start in range(len(mates)):
            budget = min(_CHAIN_STEPS_PER_START, steps_left)
            found, used = _best_chain(
                start, mates, rows, neighbours, sorted(singles), budget, keep_count
            )
            steps_left -= used
            if found is not None:
                added, touched = found
                for a in touched:
                    mates[a] = UNPAIRED
                for a, b in added:
                    mates[a], mates[b] = b, a
                singles.difference_update(touched)
                singles.update(a for a in touched if mates[a] == UNPAIRED)
                improved = True
            if steps_left <= 0:
                break
    partner[:] = mates


Chain = tuple[list[tuple[int, int]], list[int]]  # the new pairs, everyone whose pair changes


def _best_chain(
    start: int,
    mates: list[int],
    rows: list[list[float]],
    neighbours: list[list[int]],
    singles: list[int],
    budget: int,
    keep_count: bool,
) -> tuple[Chain | None, int]:
    """The best improving chain from `start` within `budget` steps, and the steps used.

    A chain breaks start's pair (if any) and gives the freed end a new partner, whose old
    partner is freed in turn, … until the freed end joins a single, closes the cycle back to
    `start`, or stays alone (unless `keep_count`: then a chain that began by breaking a pair
    may not end with someone alone). Neighbours are tried best first, and only while the gain
    so far is positive (Lin and Kernighan's criterion: every improving cycle has a starting
    point from which all its partial gains are positive)."""
    best_gain = _TOLERANCE
    best: Chain | None = None
    steps = 0
    other = mates[start]
    if other == UNPAIRED:
        free, gain, closing = start, 0.0, UNPAIRED
        path = [start]
    else:
        free, gain, closing = other, -rows[start][other], start
        path = [start, other]
    added: list[tuple[int, int]] = []
    in_path = set(path)

    def grow(free: int, gain: float, depth: int) -> None:
        nonlocal best_gain, best, steps
        row = rows[free]
        # Ending the chain: back to the start, or with someone unpaired. Every candidate is
        # looked at, not only the best few neighbours, since these are few and end the search.
        for x in (closing, *singles) if closing != UNPAIRED else singles:
            steps += 1
            if x not in in_path or x == closing:
                with_x = gain + row[x]
                if with_x > best_gain:
                    best_gain, best = with_x, ([*added, (free, x)], [*path, x])
        if depth > _CHAIN_DEPTH:
            return
        # Going on: a new partner x for the freed person; x's old partner y is freed next.
        for x in neighbours[free]:
            steps += 1
            with_x = gain + row[x]
            if with_x <= _TOLERANCE or steps > budget:
                return  # best first: no later neighbour can pass the gain criterion
            y = mates[x]
            if x in in_path or y == UNPAIRED:
                continue  # ends of a chain, tried above
            after = with_x - rows[x][y]
            added.append((free, x))
            path.extend((x, y))
            if after > best_gain and not (keep_count and closing != UNPAIRED):
                best_gain, best = after, (list(added), list(path))
            in_path.update((x, y))
            grow(y, after, depth + 1)
            in_path.difference_update((x, y))
            path.pop()
            path.pop()
            added.pop()

    grow(free, gain, 1)
    return best, steps


# --- As many pairs as possible ------------------------------------------------------------------

_AUGMENT_STEPS = 3_000_000  # edges looked at in all; a bound on time that a real cohort won't meet


def _augment_to_maximum(partner: np.ndarray, allowed: np.ndarray) -> None:
    """Add pairs along augmenting paths until none is left: Edmonds' blossom algorithm for
    cardinality, in place, starting from the (usually almost maximum) matching found so far.

    A search that fails from an unpaired person leaves a "Hungarian" tree: everyone in it is
    already paired as well as they ever can be, so later searches skip them all. That keeps
    a cohort with many people nobody can take (one language, say) from costing a full search
    of the cohort per person."""
    n = len(partner)
    degree = allowed.sum(axis=1)
    roots = [v for v in range(n) if partner[v] == UNPAIRED and degree[v] > 0]
    if len(roots) < 2:
        return
    adjacency = [np.nonzero(row)[0].tolist() for row in allowed]
    mates = partner.tolist()
    dead = [False] * n
    steps_left = _AUGMENT_STEPS
    for root in roots:
        if mates[root] != UNPAIRED or dead[root]:
            continue
        end, parent, reached, steps = _augmenting_path(root, mates, adjacency, dead, steps_left)
        steps_left -= steps
        if end == UNPAIRED:
            for v in reached:
                dead[v] = True
        else:
            while end != UNPAIRED:  # flip the path: every other edge joins the matching
                previous = parent[end]
                after = mates[previous]
                mates[end], mates[previous] = previous, end
                end = after
        if steps_left <= 0:
            break
    partner[:] = mates


def _augmenting_path(
    root: int,
    mates: list[int],
    adjacency: list[list[int]],
    dead: list[bool],
    budget: int,
) -> tuple[int, list[int], list[int], int]:
    """One breadth-first search of Edmonds' algorithm from an unpaired `root`, shrinking odd
    cycles (blossoms) as it meets them. Returns the unpaired person the path ends at (or -1),
    the parent links to walk it back, everyone the search reached, and the steps it took."""
    n = len(mates)
    parent = [UNPAIRED] * n
    base = list(range(n))
    members = {root: [root]}  # a blossom's base → the people shrunk into it
    outer = [False] * n
    outer[root] = True
    queue = [root]
    reached = [root]
    steps = 0

    def common_base(a: int, b: int) -> int:
        seen = set()
        while True:
            a = base[a]
            seen.add(a)
            if mates[a] == UNPAIRED:
                break
            a = parent[mates[a]]
        while True:
            b = base[b]
            if b in seen:
                return b
            b = parent[mates[b]]

    def mark(v: int, blossom_base: int, child: int, bases: set[int]) -> None:
        while base[v] != blossom_base:
            bases.add(base[v])
            bases.add(base[mates[v]])
            parent[v] = child
            child = mates[v]
            v = parent[mates[v]]

    head = 0
    while head < len(queue):
        v = queue[head]
        head += 1
        for to in adjacency[v]:
            steps += 1
            if steps > budget:
                return UNPAIRED, parent, [], steps  # out of steps: not a proof, mark nobody
            if dead[to] or base[v] == base[to] or mates[v] == to:
                continue
            if to == root or (mates[to] != UNPAIRED and parent[mates[to]] != UNPAIRED):
                # An odd cycle: shrink it into its base, and search on from all of it.
                blossom_base = common_base(v, to)
                bases: set[int] = set()
                mark(v, blossom_base, to, bases)
                mark(to, blossom_base, v, bases)
                bases.discard(blossom_base)
                joined = members.setdefault(blossom_base, [blossom_base])
                for old in sorted(bases):
                    for u in members.pop(old, [old]):
                        base[u] = blossom_base
                        joined.append(u)
                        if not outer[u]:
                            outer[u] = True
                            queue.append(u)
                            reached.append(u)
            elif parent[to] == UNPAIRED:
                parent[to] = v
                reached.append(to)
                if mates[to] == UNPAIRED:
                    return to, parent, reached, steps
                outer[mates[to]] = True
                queue.append(mates[to])
                reached.append(mates[to])
    return UNPAIRED, parent, reached, steps
