"""Matching at scale: how fast, how much memory, and how close to the true optimum.

    python bench/matching.py [--seed 0]           mentors and mentees (mode "one_to_one")
    python bench/matching.py --peer [--seed 0]    peers (mode "peer")

Bipartite: matches a synthetic 10,000-mentee, 2,000-mentor cohort (bench/cohort_synthetic.py)
with the engine the app uses, explaining every pair, in a fresh process so its peak memory is
its own. Then it checks the engine against an independent exact method on a 2,000 x 400 cohort:
the LP relaxation over every feasible pair, solved by HiGHS (integral for this bipartite
problem, and the script checks that it is), plus the greedy baseline. Last line:
RESULT matching mentees=<n> mentors=<n> seconds=<s> peak_mib=<MiB> optimality=<r>
greedy_optimality=<r>

Peer: matches 1,000 peers the same way, then checks the engine against networkx's exact
general-graph matching on 300 peers. Last line:
RESULT peer_matching peers=<n> seconds=<s> optimality=<r>

Needs no database and no Django settings: the engine is plain Python and NumPy.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import multiprocessing.pool
import os
import resource
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TypedDict

# bench/ is first on sys.path when this runs as a script, and this file is bench/matching.py:
# the repository root must come before it, or `import matching` would import this script.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from bench.cohort_synthetic import competency_names, synthetic_cohort
from matching.engine import MatchResult, MatchSettings, Person, match, solve
from matching.engine.api import scored_matrix
from matching.engine.explain import pair_explanation

COMPETENCIES = 300
BIG_MENTEES, BIG_MENTORS = 10_000, 2_000
CHECK_MENTEES, CHECK_MENTORS = 2_000, 400
PEERS, CHECK_PEERS = 1_000, 300
INTEGRALITY_TOLERANCE = 1e-6
# networkx's matching is exact only on integer weights (floats can leave it slightly short), so
# the peer reference works in millionths of a point: at most 150 pairs x 0.5e-6 of rounding.
PEER_WEIGHT_SCALE = 1_000_000
TARGET_SECONDS, TARGET_MIB = 5.0, 1024
TARGET_OPTIMALITY, TARGET_PEER_OPTIMALITY = 0.999, 0.99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--peer", action="store_true", help="benchmark peer matching instead")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic cohorts")
    args = parser.parse_args()
    if args.peer:
        bench_peers(seed=args.seed)
    else:
        bench_bipartite(seed=args.seed)


# --- Mentors and mentees ------------------------------------------------------------------------


def bench_bipartite(*, seed: int) -> None:
    print_machine()
    settings = MatchSettings()
    names = competency_names(COMPETENCIES)
    with fresh_process() as child:
        started = time.perf_counter()
        people = synthetic_cohort(
            mentees=BIG_MENTEES, mentors=BIG_MENTORS, competencies=COMPETENCIES, seed=seed
        )
        generation_seconds = time.perf_counter() - started
        run: RunFigures = child.apply(timed_run, (people, settings, names))
    capacity = sum(p.capacity for p in people if p.role == "mentor")
    print(
        f"cohort            {BIG_MENTEES:,} mentees, {BIG_MENTORS:,} mentors (capacity "
        f"{capacity:,}), {COMPETENCIES} competencies, seed {seed}: "
        f"generated in {generation_seconds:.2f} s"
    )
    print_run(run, label="engine run")

    print()
    print(f"Exact check on {CHECK_MENTEES:,} mentees x {CHECK_MENTORS:,} mentors")
    check = check_bipartite(seed=seed, settings=settings)
    optimality = check["engine"] / check["exact"]
    greedy_optimality = check["greedy"] / check["exact"]
    print(
        f"  optimality      engine {optimality:.6f}, greedy {greedy_optimality:.6f} "
        f"(of the exact optimum)"
    )
    print_targets(
        [
            ("seconds", run["seconds"], "<=", TARGET_SECONDS),
            ("peak MiB", run["peak_mib"], "<=", TARGET_MIB),
            ("optimality", optimality, ">=", TARGET_OPTIMALITY),
        ]
    )
    print(
        f"RESULT matching mentees={BIG_MENTEES} mentors={BIG_MENTORS} "
        f"seconds={run['seconds']:.2f} peak_mib={round(run['peak_mib'])} "
        f"optimality={optimality:.6f} greedy_optimality={greedy_optimality:.6f}"
    )


def check_bipartite(*, seed: int, settings: MatchSettings) -> dict[str, float]:
    """Engine, exact LP and greedy on one mid-size cohort and one score matrix."""
    people = synthetic_cohort(
        mentees=CHECK_MENTEES, mentors=CHECK_MENTORS, competencies=COMPETENCIES, seed=seed
    )
    mentees = sorted((p for p in people if p.role == "mentee"), key=lambda p: p.id)
    mentors = sorted((p for p in people if p.role == "mentor"), key=lambda p: p.id)
    capacities = np.array([p.capacity for p in mentors], dtype=np.int64)

    started = time.perf_counter()
    result = match(people=people, settings=settings)
    engine_seconds = time.perf_counter() - started
    scores, _, _ = scored_matrix(mentees, mentors, settings)
    assignment = assignment_of(result, mentees, mentors)
    check_assignment(assignment, scores, capacities)
    engine_total = solve.total_score(scores, assignment)
    print(
        f"  engine          {engine_seconds:.2f} s: {len(result.pairs):,} matched of "
        f"{capacities.sum():,} places, objective {result.objective_value:.4f} "
        f"(pairs re-scored from the matrix: {engine_total:.4f})"
    )

    started = time.perf_counter()
    exact, x, variables = exact_lp(scores, capacities)
    lp_seconds = time.perf_counter() - started
    fractional = float(np.minimum(x, 1 - x).max(initial=0.0))
    integral = fractional <= INTEGRALITY_TOLERANCE
    print(
        f"  exact LP        {lp_seconds:.2f} s: {variables:,} variables (every feasible pair), "
        f"{len(mentees) + len(mentors):,} constraints, objective {exact:.4f}, "
        f"{int(np.round(x).sum()):,} matched"
    )
    print(
        f"  integrality     {'integral' if integral else 'NOT integral'}: largest distance "
        f"from 0 or 1 is {fractional:.1e} (tolerance {INTEGRALITY_TOLERANCE:.0e})"
    )
    if not integral:
        print("                  (the LP value is still an upper bound on the best matching)")
    if engine_total > exact * (1 + 1e-6) + 1e-6:
        raise SystemExit(f"engine {engine_total} beats the exact optimum {exact}: a bug")

    started = time.perf_counter()
    greedy = solve.assign_greedy(scores, capacities)
    greedy_seconds = time.perf_counter() - started
    check_assignment(greedy, scores, capacities)
    greedy_total = solve.total_score(scores, greedy)
    print(
        f"  greedy          {greedy_seconds:.2f} s: {int((greedy >= 0).sum()):,} matched, "
        f"objective {greedy_total:.4f}"
    )
    return {"engine": result.objective_value, "exact": exact, "greedy": greedy_total}


def exact_lp(scores: np.ndarray, capacities: np.ndarray) -> tuple[float, np.ndarray, int]:
    """max sum(score x) over every feasible pair, each mentee at most once, each mentor at most
    `capacity` times, 0 <= x <= 1. The constraint matrix of a bipartite graph is totally
    unimodular, so HiGHS's basic optimum is a 0/1 matching: the exact best assignment."""
    n_rows, n_cols = scores.shape
    rows, cols = np.nonzero(scores >= 0)
    variables = rows.size
    ones = np.ones(variables)
    edge = np.arange(variables)
    constraints = sparse.csr_matrix(
        (
            np.concatenate([ones, ones]),
            (np.concatenate([rows, n_rows + cols]), np.concatenate([edge, edge])),
        ),
        shape=(n_rows + n_cols, variables),
    )
    limits = np.concatenate([np.ones(n_rows), capacities.astype(float)])
    weights = scores[rows, cols].astype(np.float64)
    # scipy-stubs type A_ub as a dense 2-D array only, but the HiGHS methods take a sparse matrix
    # (scipy's _linprog_util handles sps.issparse(A_ub); dense here would be 2,400 x ~500k).
    solution = linprog(  # type: ignore[call-overload]
        -weights, A_ub=constraints, b_ub=limits, bounds=(0, 1), method="highs"
    )
    if solution.status != 0:
        raise SystemExit(f"the exact LP failed: {solution.message}")
    return float(weights @ solution.x), solution.x, variables


def assignment_of(
    result: MatchResult, mentees: Sequence[Person], mentors: Sequence[Person]
) -> np.ndarray:
    """The result's pairs as each mentee's mentor column (-1: unmatched)."""
    row = {p.id: i for i, p in enumerate(mentees)}
    col = {p.id: j for j, p in enumerate(mentors)}
    assignment = np.full(len(mentees), solve.UNASSIGNED, dtype=np.int64)
    for pair in result.pairs:
        if assignment[row[pair.mentee_id]] != solve.UNASSIGNED:
            raise SystemExit(f"mentee {pair.mentee_id} is matched twice")
        assignment[row[pair.mentee_id]] = col[pair.mentor_id]
    return assignment


def check_assignment(assignment: np.ndarray, scores: np.ndarray, capacities: np.ndarray) -> None:
    """An optimality ratio means nothing unless the assignment keeps every rule and place."""
    matched = np.nonzero(assignment >= 0)[0]
    if (scores[matched, assignment[matched]] < 0).any():
        raise SystemExit("an assignment contains a pair the hard rules forbid")
    if (np.bincount(assignment[matched], minlength=len(capacities)) > capacities).any():
        raise SystemExit("an assignment gives a mentor more mentees than places")


# --- Peers --------------------------------------------------------------------------------------


def bench_peers(*, seed: int) -> None:
    print_machine()
    settings = MatchSettings(mode="peer")
    names = competency_names(COMPETENCIES)
    with fresh_process() as child:
        started = time.perf_counter()
        people = synthetic_cohort(
            mentees=PEERS, mentors=0, competencies=COMPETENCIES, seed=seed, peers=True
        )
        generation_seconds = time.perf_counter() - started
        run: RunFigures = child.apply(timed_run, (people, settings, names))
    print(
        f"cohort            {PEERS:,} peers, {COMPETENCIES} competencies, seed {seed}: "
        f"generated in {generation_seconds:.2f} s"
    )
    print_run(run, label="engine run")

    print()
    print(f"Exact check on {CHECK_PEERS} peers")
    optimality = check_peers(seed=seed, settings=settings)
    print_targets(
        [
            ("seconds", run["seconds"], "<=", TARGET_SECONDS),
            ("optimality", optimality, ">=", TARGET_PEER_OPTIMALITY),
        ]
    )
    print(
        f"RESULT peer_matching peers={PEERS} seconds={run['seconds']:.2f} "
        f"optimality={optimality:.6f}"
    )


def check_peers(*, seed: int, settings: MatchSettings) -> float:
    """Engine against Edmonds' exact matching over the same symmetric weights."""
    import networkx as nx

    people = synthetic_cohort(
        mentees=CHECK_PEERS, mentors=0, competencies=COMPETENCIES, seed=seed, peers=True
    )
    pool = sorted(people, key=lambda p: p.id)
    started = time.perf_counter()
    result = match(people=people, settings=settings)
    engine_seconds = time.perf_counter() - started

    # The weight the engine maximises: the mean of both directions, where both are allowed.
    scores, _, _ = scored_matrix(pool, pool, settings)
    scores = scores.astype(np.float64)
    feasible = (scores >= 0) & (scores.T >= 0)
    np.fill_diagonal(feasible, False)
    weights = (scores + scores.T) / 2

    index = {p.id: i for i, p in enumerate(pool)}
    paired: set[int] = set()
    engine_total = 0.0
    for pair in result.pairs:
        a, b = index[pair.mentor_id], index[pair.mentee_id]
        if a in paired or b in paired or a == b:
            raise SystemExit(f"peer {pool[a].id} or {pool[b].id} is paired twice")
        if not feasible[a, b]:
            raise SystemExit(f"peers {pool[a].id} and {pool[b].id}: the rules forbid this pair")
        paired |= {a, b}
        engine_total += weights[a, b]
    print(
        f"  engine          {engine_seconds:.2f} s: {len(result.pairs)} pairs, objective "
        f"{result.objective_value:.4f} (pairs re-weighted from the matrix: {engine_total:.4f})"
    )

    started = time.perf_counter()
    rows, cols = np.nonzero(np.triu(feasible, 1))
    graph: nx.Graph[int] = nx.Graph()
    graph.add_weighted_edges_from(
        (int(i), int(j), round(weights[i, j] * PEER_WEIGHT_SCALE))
        for i, j in zip(rows, cols, strict=True)
    )
    mate = nx.max_weight_matching(graph, maxcardinality=False)
    exact = float(sum(weights[i, j] for i, j in mate))
    exact_seconds = time.perf_counter() - started
    print(
        f"  exact           {exact_seconds:.2f} s: networkx max_weight_matching, "
        f"{rows.size:,} feasible pairs, {len(mate)} pairs, objective {exact:.4f}"
    )
    if engine_total > exact + CHECK_PEERS / 2 / PEER_WEIGHT_SCALE:
        raise SystemExit(f"engine {engine_total} beats the exact optimum {exact}: a bug")
    if abs(result.objective_value - engine_total) > 1e-4 * max(exact, 1.0):
        print(
            "  WARNING         the engine's objective_value is not the sum of its pairs' "
            "symmetric weights; optimality uses objective_value as specified"
        )
    optimality = result.objective_value / exact
    print(
        f"  optimality      engine {optimality:.6f} (re-weighted pairs: "
        f"{engine_total / exact:.6f}) of the exact optimum"
    )
    return optimality


# --- The timed run, in a process of its own ------------------------------------------------------


def fresh_process() -> multiprocessing.pool.Pool:
    """One newly spawned interpreter for the timed run, so its peak memory is its own. Start it
    before building anything: on Linux a spawned child's ru_maxrss begins at the parent's peak
    at the moment of spawning (fork and exec keep it), so a child started after the generator
    or the LP would report their memory as its own. The cohort is built here and passed in."""
    return multiprocessing.get_context("spawn").Pool(1)


class RunFigures(TypedDict):
    """What `timed_run` measured, sent back from the child process."""

    seconds: float
    match_seconds: float
    explain_seconds: float
    stats: dict[str, float]
    pairs: int
    objective: float
    unmatched: Counter[tuple[str, str]]  # (role, reason code) -> people
    explanations: int
    example: str
    rss_before_mib: float
    peak_mib: float
    high_water_mib: float


def timed_run(people: list[Person], settings: MatchSettings, names: dict[int, str]) -> RunFigures:
    """What the app does for a run: match, then explain every pair. Timed together."""
    rss_before = _current_mib()
    by_id = {p.id: p for p in people}
    started = time.perf_counter()
    result = match(people=people, settings=settings)
    explaining = time.perf_counter()
    explanations = [
        pair_explanation(
            pair, by_id[pair.mentee_id], by_id[pair.mentor_id], names=names, settings=settings
        )
        for pair in result.pairs
    ]
    finished = time.perf_counter()
    unmatched: Counter[tuple[str, str]] = Counter(
        (by_id[u.person_id].role, u.reason_code) for u in result.unmatched
    )
    return {
        "seconds": finished - started,
        "match_seconds": explaining - started,
        "explain_seconds": finished - explaining,
        "stats": dict(result.stats),
        "pairs": len(result.pairs),
        "objective": result.objective_value,
        "unmatched": unmatched,
        "explanations": len(explanations),
        "example": explanations[0] if explanations else "",
        "rss_before_mib": rss_before,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB on Linux
        "high_water_mib": _high_water_mib(),
    }


def _high_water_mib() -> float:
    """The kernel's peak RSS of this process's own memory (VmHWM), to cross-check ru_maxrss."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return math.nan


def _current_mib() -> float:
    with open("/proc/self/statm") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


# --- Printing -----------------------------------------------------------------------------------


def print_machine() -> None:
    # Timings on a 2-core machine move with whatever else runs: show how busy it was.
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine           {os.cpu_count()} cores, Python {sys.version.split()[0]}, load {load}")


def print_run(run: RunFigures, *, label: str) -> None:
    stats = run["stats"]
    scoring = stats.get("scoring_seconds")
    solving = stats.get("solving_seconds")
    print(
        f"{label:<17} a fresh process (spawn); {run['rss_before_mib']:.0f} MiB resident "
        f"before it (interpreter, NumPy, SciPy, the cohort)"
    )
    if scoring is not None:
        print(f"  scoring         {scoring:.2f} s")
    if solving is not None:
        print(f"  solving         {solving:.2f} s")
    if scoring is not None and solving is not None:
        rest = run["match_seconds"] - scoring - solving
        print(f"  rest of match   {rest:.2f} s (pairs, alternatives, unmatched reasons)")
    else:
        print(f"  match           {run['match_seconds']:.2f} s")
    print(f"  explanations    {run['explain_seconds']:.2f} s ({run['explanations']:,} sentences)")
    print(
        f"  total           {run['seconds']:.2f} s wall; peak RSS {run['peak_mib']:.0f} MiB "
        f"(ru_maxrss; VmHWM {run['high_water_mib']:.0f} MiB)"
    )
    print(f"matched           {run['pairs']:,} pairs, objective {run['objective']:.4f}")
    for role in sorted({role for role, _ in run["unmatched"]}):
        counts = sorted(
            ((code, n) for (r, code), n in run["unmatched"].items() if r == role),
            key=lambda item: (-item[1], item[0]),
        )
        print(f"unmatched {role + 's':<7} " + ", ".join(f"{code} {n:,}" for code, n in counts))
    if run["example"]:
        print(f'example           "{run["example"]}"')


def print_targets(checks: list[tuple[str, float, str, float]]) -> None:
    words = []
    for name, value, sign, limit in checks:
        met = value <= limit if sign == "<=" else value >= limit
        shown = f"{value:.6f}" if name == "optimality" else f"{value:.2f}"
        words.append(f"{name} {shown} {sign} {limit:g} {'met' if met else 'MISSED'}")
    print("targets           " + "; ".join(words))


if __name__ == "__main__":
    main()
