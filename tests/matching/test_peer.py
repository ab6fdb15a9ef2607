"""Peer mode: pairs inside one pool, scored both ways, as good as the exact optimum, never
breaking a rule. Pure: no database."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import cast

import networkx as nx
import numpy as np
import pytest

from matching.engine import MatchResult, MatchSettings, Person, Rules, match, scoring
from matching.engine.peer import UNPAIRED, best_pairs, match_peers

PEER = MatchSettings(mode="peer")
COVERAGE = replace(PEER, objective="coverage")


def peer(id: int, **fields) -> Person:
    fields.setdefault("languages", frozenset({"english"}))
    fields.setdefault("level", 3)
    return Person(id=id, user_id=id, role="peer", **fields)


def random_pool(seed: int, size: int, terms: int = 12) -> list[Person]:
    """Peers with overlapping wishes, mixed levels (some too far apart to pair), a few who
    speak only German, and some who report to another peer."""
    rng = random.Random(seed)

    def pick(k: int) -> frozenset[int]:
        return frozenset(rng.sample(range(terms), k))

    return [
        peer(
            i,
            develop=pick(rng.randint(1, 3)),
            seek=pick(rng.randint(1, 2)),
            offer=pick(rng.randint(1, 3)),
            expertise=pick(rng.randint(1, 3)),
            level=rng.randint(1, 7),
            department=rng.choice("ABC"),
            prefers_other_department=rng.random() < 0.3,
            utc_offset_hours=rng.choice([0, 1, 5.5, -5]),
            languages=frozenset({"german"} if rng.random() < 0.15 else {"english"}),
            reporting_chain=frozenset({rng.randrange(size)}) if rng.random() < 0.2 else frozenset(),
        )
        for i in range(size)
    ]


def pair_weights(pool: list[Person], settings: MatchSettings) -> tuple[np.ndarray, np.ndarray]:
    """The symmetric weights and feasibility the peer engine should optimise, computed here
    from the scoring module independently of peer.py."""
    directed = scoring.score_matrix(pool, pool, settings).astype(np.float64)
    masks = scoring.rule_masks(pool, pool, settings)
    allowed = scoring.feasible_matrix(masks, directed.shape)
    allowed &= allowed.T
    np.fill_diagonal(allowed, False)
    return (directed + directed.T) / 2, allowed


def brute_force(weights: np.ndarray, allowed: np.ndarray, objective: str) -> tuple[int, float]:
    """(pairs, total weight) of the best matching, by trying every matching."""
    n = len(weights)
    best = (0, 0.0)

    def visit(i: int, taken: list[bool], pairs: int, total: float) -> None:
        nonlocal best
        while i < n and taken[i]:
            i += 1
        if i == n:
            key = (pairs, total) if objective == "coverage" else (0, total)
            if key > best:
                best = key
            return
        taken[i] = True
        visit(i + 1, taken, pairs, total)  # i stays unpaired
        for j in range(i + 1, n):
            if not taken[j] and allowed[i, j]:
                taken[j] = True
                visit(i + 1, taken, pairs + 1, total + weights[i, j])
                taken[j] = False
        taken[i] = False

    visit(0, [False] * n, 0, 0.0)
    pairs = best[0] if objective == "coverage" else -1
    return pairs, best[1]


def matched(partner: np.ndarray, weights: np.ndarray) -> tuple[int, float]:
    rows = np.nonzero(partner > np.arange(len(partner)))[0]
    return len(rows), float(weights[rows, partner[rows]].sum())


def random_graph(seed: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Random symmetric weights, sometimes on a coarse scale (ties), and a share of the pairs
    forbidden that goes from none to most."""
    rng = np.random.default_rng(seed)
    weights = rng.random((size, size))
    if seed % 3 == 0:
        weights = np.round(weights * 4) / 4
    weights = (weights + weights.T) / 2
    allowed = rng.random((size, size)) >= [0.0, 0.3, 0.6, 0.85][seed % 4]
    allowed &= allowed.T
    return weights, allowed


def check_valid(result: MatchResult, pool: list[Person], settings: MatchSettings) -> None:
    by_id = {p.id: p for p in pool}
    seen: list[int] = []
    for pair in result.pairs:
        seen += [pair.mentor_id, pair.mentee_id]
        assert pair.mentor_id < pair.mentee_id
        if not pair.locked:
            one, other = by_id[pair.mentor_id], by_id[pair.mentee_id]
            assert scoring.pair_rule_broken(one, other, settings) is None
            assert scoring.pair_rule_broken(other, one, settings) is None
    assert len(seen) == len(set(seen)), "nobody is in two pairs"
    left_out = {u.person_id for u in result.unmatched}
    assert left_out.isdisjoint(seen)
    assert left_out | set(seen) == set(by_id)


# --- The optimum ---------------------------------------------------------------------------------


@pytest.mark.parametrize("objective", ["score", "coverage"])
def test_it_finds_the_best_pairs_of_small_pools_as_trying_every_pairing_does(objective):
    settings = replace(PEER, objective=objective)
    for seed in range(40):
        pool = random_pool(seed, size=2 + seed % 7)
        weights, allowed = pair_weights(pool, settings)

        result = match_peers(people=pool, settings=settings)

        best_pairs_count, best_total = brute_force(weights, allowed, objective)
        assert result.objective_value == pytest.approx(best_total, abs=1e-4), seed
        if objective == "coverage":
            assert len(result.pairs) == best_pairs_count, seed
        check_valid(result, pool, settings)


@pytest.mark.parametrize("objective", ["score", "coverage"])
def test_it_solves_random_graphs_with_forbidden_pairs_exactly(objective):
    for seed in range(200):
        weights, allowed = random_graph(seed, size=2 + seed % 9)

        partner = best_pairs(weights, allowed, objective=objective)

        best_count, best_total = brute_force(
            weights, allowed & ~np.eye(len(weights), dtype=bool), objective
        )
        count, total = matched(partner, weights)
        assert total == pytest.approx(best_total, abs=1e-9), seed
        if objective == "coverage":
            assert count == best_count, seed


def test_it_comes_within_a_hundredth_of_the_exact_optimum_on_150_peers():
    pool = random_pool(7, size=150)
    weights, allowed = pair_weights(pool, PEER)
    graph: nx.Graph[int] = nx.Graph()
    rows, cols = np.nonzero(np.triu(allowed, 1))
    graph.add_weighted_edges_from(
        (int(i), int(j), float(weights[i, j])) for i, j in zip(rows, cols, strict=True)
    )
    exact = sum(weights[i, j] for i, j in nx.max_weight_matching(graph))

    _, total = matched(best_pairs(weights, allowed), weights)

    assert total >= 0.99 * exact


def test_it_pairs_as_many_as_possible_under_coverage_when_few_pairs_are_allowed():
    # Sparse graphs with odd cycles are where a matching without blossoms goes wrong.
    for seed in range(20):
        rng = np.random.default_rng(seed)
        size = 60
        allowed = rng.random((size, size)) < 2.5 / size
        allowed |= allowed.T
        np.fill_diagonal(allowed, False)
        weights = rng.random((size, size))
        weights = (weights + weights.T) / 2
        graph: nx.Graph[int] = nx.Graph()
        graph.add_edges_from(
            zip(*(a.tolist() for a in np.nonzero(np.triu(allowed, 1))), strict=True)
        )
        most = len(nx.max_weight_matching(graph, maxcardinality=True))

        count, _ = matched(best_pairs(weights, allowed, objective="coverage"), weights)

        assert count == most, seed


# --- What a coordinator sees ---------------------------------------------------------------------


def test_it_pairs_the_two_who_each_offer_what_the_other_seeks():
    ana = peer(1, seek=frozenset({10}), offer=frozenset({20}))
    ben = peer(2, seek=frozenset({20}), offer=frozenset({10}))
    # Cleo offers what Ana seeks too, but Ana has nothing Cleo wants: a one-way fit.
    cleo = peer(3, seek=frozenset({30}), offer=frozenset({10}))
    dev = peer(4, seek=frozenset({20}), offer=frozenset({40}))

    result = match(people=[dev, cleo, ben, ana], settings=PEER)

    pairs = {(p.mentor_id, p.mentee_id): p for p in result.pairs}
    assert set(pairs) == {(1, 2), (3, 4)}
    assert pairs[1, 2].shared["skills"] == (10, 20)
    assert pairs[1, 2].components["skills"] == 1.0  # each gets all they seek
    assert pairs[1, 2].score > pairs[3, 4].score


def test_it_never_proposes_a_pair_that_breaks_a_rule():
    settings = replace(PEER, rules=Rules(max_peer_level_gap=1, max_time_zone_gap_hours=5))
    for seed in range(5):
        pool = random_pool(100 + seed, size=60)

        result = match_peers(people=pool, settings=settings)

        check_valid(result, pool, settings)
        by_id = {p.id: p for p in pool}
        for pair in result.pairs:
            one, other = by_id[pair.mentor_id], by_id[pair.mentee_id]
            assert abs(cast(int, one.level) - cast(int, other.level)) <= 1
            assert one.languages & other.languages
            assert one.user_id not in other.reporting_chain
            assert other.user_id not in one.reporting_chain


def test_it_keeps_locked_pairs_even_a_poor_one():
    pool = random_pool(3, size=12)
    first = match_peers(people=pool, settings=PEER)
    worst = min(first.pairs, key=lambda p: p.score)
    # Lock two people who were not paired together, the second of them named first.
    a, b = worst.mentor_id, next(p.mentee_id for p in first.pairs if p != worst)
    settings = replace(PEER, locked_pairs=((b, a),))

    result = match_peers(people=pool, settings=settings)

    locked = [p for p in result.pairs if p.locked]
    assert [(p.mentor_id, p.mentee_id) for p in locked] == [(min(a, b), max(a, b))]
    check_valid(result, pool, settings)


def test_it_says_why_a_peer_is_left_out():
    pool = [
        peer(1),
        peer(2),
        peer(3),
        peer(4, languages=frozenset({"german"})),
        peer(5, level=8),
    ]

    result = match_peers(people=pool, settings=PEER)

    reasons = {u.person_id: u for u in result.unmatched}
    assert reasons[4].reason_code == "no_eligible_peer"
    assert "language" in reasons[4].reason
    assert reasons[5].reason_code == "no_eligible_peer"
    assert "within 2 levels" in reasons[5].reason
    odd = [u for u in result.unmatched if u.person_id in (1, 2, 3)]
    assert [u.reason_code for u in odd] == ["odd_one_out"]
    assert "2 peers they could pair with are already paired" in odd[0].reason


def test_it_lists_each_peers_next_best_partners_and_whether_they_are_free():
    pool = random_pool(11, size=9)

    result = match_peers(people=pool, settings=PEER)

    partner = {p.mentor_id: p.mentee_id for p in result.pairs}
    partner |= {b: a for a, b in partner.items()}
    free = {u.person_id for u in result.unmatched}
    for person in pool:
        options = result.alternatives[person.id]
        assert len(options) <= 3
        assert person.id not in [o.mentor_id for o in options]
        assert partner.get(person.id) not in [o.mentor_id for o in options]
        assert [o.score for o in options] == sorted((o.score for o in options), reverse=True)
        assert all(o.has_capacity == (o.mentor_id in free) for o in options)


def test_it_scores_pairs_symmetrically_and_totals_them():
    pool = random_pool(5, size=20)

    result = match_peers(people=pool, settings=PEER)

    by_id = {p.id: p for p in pool}
    for pair in result.pairs:
        one, other = by_id[pair.mentor_id], by_id[pair.mentee_id]
        there = scoring.pair_score(scoring.pair_components(one, other, PEER)[0], PEER.weights)
        back = scoring.pair_score(scoring.pair_components(other, one, PEER)[0], PEER.weights)
        assert pair.score == pytest.approx((there + back) / 2, abs=1e-6)
    assert result.objective_value == pytest.approx(sum(p.score for p in result.pairs))


def test_it_gives_the_same_pairs_for_the_same_cohort_in_any_order():
    pool = random_pool(21, size=80)
    shuffled = pool[:]
    random.Random(1).shuffle(shuffled)

    first = match_peers(people=pool, settings=COVERAGE)
    again = match_peers(people=shuffled, settings=COVERAGE)

    assert first.pairs == again.pairs
    assert first.unmatched == again.unmatched
    assert first.alternatives == again.alternatives


def test_it_reports_progress_and_ignores_people_who_are_not_peers():
    steps: list[int] = []
    mentor = Person(id=99, user_id=99, role="mentor", languages=frozenset({"english"}))

    result = match(
        people=[*random_pool(2, size=6), mentor],
        settings=PEER,
        progress=lambda percent, message: steps.append(percent),
    )

    assert steps == sorted(steps)
    assert steps[-1] == 100
    assert 99 not in {u.person_id for u in result.unmatched}
    assert 99 not in {i for p in result.pairs for i in (p.mentor_id, p.mentee_id)}


def test_it_handles_empty_and_single_peer_pools():
    assert match_peers(people=[], settings=PEER).pairs == []

    alone = match_peers(people=[peer(1)], settings=PEER)

    assert alone.pairs == []
    assert alone.unmatched[0].reason_code == "no_eligible_peer"


def test_it_pairs_a_thousand_peers():
    pool = random_pool(1, size=1000, terms=40)

    result = match_peers(people=pool, settings=PEER)

    check_valid(result, pool, PEER)
    assert len(result.pairs) >= 450


def test_it_leaves_nobody_unpaired_who_could_pair_with_another_single():
    partner = best_pairs(*random_graph(4, size=40))

    singles = np.nonzero(partner == UNPAIRED)[0]
    _, allowed = random_graph(4, size=40)
    assert not allowed[np.ix_(singles, singles)][~np.eye(len(singles), dtype=bool)].any()
