"""The assignment that is best for the whole cohort under mentor capacities.

A min-cost bipartite matching: each mentee is a row; each mentor becomes as many columns as
their places ("slots"); each mentee also gets one private "stays unmatched" column, so a full
matching always exists and leaving someone out has an explicit price. Scipy's sparse
Jonker-Volgenant solver (LAPJVsp) finds the exact optimum of that graph.

To keep 10,000 x 2,000 cohorts fast, the graph keeps each mentee's best `k` mentors and each
mentor's best mentees, not every feasible pair; the benchmark measures what that costs against
an exact LP on the full problem (it is nothing, to 4 decimals, at the default `k`).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

UNASSIGNED = -1
_BIAS = 2.0  # keeps every cost positive: scipy's sparse graphs cannot hold a zero weight
_PREFER_MATCHING = 1e-6  # a feasible pair scoring 0 still beats staying unmatched


def top_per_row(matrix: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's `k` largest values (unordered), without copying."""
    n_cols = matrix.shape[1]
    if k >= n_cols:
        return np.broadcast_to(np.arange(n_cols), (matrix.shape[0], n_cols))
    return np.argpartition(matrix, n_cols - k, axis=1)[:, n_cols - k :]


_BLOCK_ROWS = 1024
_BLOCK_COLS = 64


def candidate_edges(
    scores: np.ndarray, capacities: np.ndarray, per_row: int
) -> tuple[np.ndarray, np.ndarray]:
    """The (row, column) pairs the sparse graph keeps: every row's best `per_row` feasible
    columns, and every column's best rows (enough to fill its places several times over).

    Worked through in blocks: partitioning the whole matrix at once (and a transposed copy of
    it for the columns) set the run's peak memory; blocks give the same edges in a fraction."""
    n_rows, n_cols = scores.shape
    keep = np.zeros(scores.shape, dtype=bool)
    k = min(per_row, n_cols)
    for start in range(0, n_rows, _BLOCK_ROWS):
        block = scores[start : start + _BLOCK_ROWS]
        best = top_per_row(block, k)
        keep[np.arange(start, start + block.shape[0])[:, None], best] = True
    per_col = int(min(n_rows, max(8, 4 * capacities.max(initial=1))))
    for start in range(0, n_cols, _BLOCK_COLS):
        block = np.ascontiguousarray(scores[:, start : start + _BLOCK_COLS].T)
        best = top_per_row(block, per_col)
        keep[best, np.arange(start, start + block.shape[0])[:, None]] = True
    keep &= scores >= 0
    keep &= (capacities > 0)[None, :]
    rows, cols = np.nonzero(keep)
    return rows.astype(np.int64), cols.astype(np.int64)


def assign(
    scores: np.ndarray,
    capacities: np.ndarray,
    *,
    objective: str = "score",
    per_row: int = 60,
) -> np.ndarray:
    """Best assignment of rows (mentees) to columns (mentors) with `capacities` places each.

    `scores`: rows x columns, 0..1, negative where a pair is forbidden. `objective`: "score"
    maximises the total score; "coverage" first matches as many rows as possible, then
    maximises the score among those assignments. Returns each row's column, or -1."""
    n_rows, n_cols = scores.shape
    result = np.full(n_rows, UNASSIGNED, dtype=np.int64)
    if n_rows == 0 or n_cols == 0:
        return result
    rows, cols = candidate_edges(scores, capacities, per_row)
    if rows.size == 0:
        return result
    # A mentor never needs more slots than mentees who could take them.
    useful = np.minimum(capacities, np.bincount(cols, minlength=n_cols))
    slot_start = np.concatenate([[0], np.cumsum(useful)[:-1]])
    total_slots = int(useful.sum())
    edge_scores = scores[rows, cols].astype(np.float64)
    repeats = useful[cols]
    slot_rows = np.repeat(rows, repeats)
    slot_offsets = np.arange(repeats.sum()) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    slot_cols = np.repeat(slot_start[cols], repeats) + slot_offsets
    slot_costs = np.repeat(_BIAS - edge_scores - _PREFER_MATCHING, repeats)
    # Staying unmatched scores 0; under "coverage" it also costs more than any total of scores
    # can make up for, so the solver leaves someone out only when nobody can take them.
    unmatched_cost = _BIAS + (
        float(min(n_rows, total_slots)) + 1.0 if objective == "coverage" else 0.0
    )
    graph = sparse.csr_matrix(
        (
            np.concatenate([slot_costs, np.full(n_rows, unmatched_cost)]),
            (
                np.concatenate([slot_rows, np.arange(n_rows)]),
                np.concatenate([slot_cols, total_slots + np.arange(n_rows)]),
            ),
        ),
        shape=(n_rows, total_slots + n_rows),
    )
    matched_rows, matched_cols = min_weight_full_bipartite_matching(graph)
    slot_owner = np.repeat(np.arange(n_cols), useful)
    real = matched_cols < total_slots
    result[matched_rows[real]] = slot_owner[matched_cols[real]]
    return result


def assign_greedy(scores: np.ndarray, capacities: np.ndarray) -> np.ndarray:
    """The simple way: best-scoring pairs first, while places last. A baseline to measure the
    optimiser against, not used by the app."""
    n_rows, _ = scores.shape
    result = np.full(n_rows, UNASSIGNED, dtype=np.int64)
    left = capacities.astype(np.int64).copy()
    rows, cols = np.nonzero(scores >= 0)
    order = np.lexsort((cols, rows, -scores[rows, cols]))
    for row, col in zip(rows[order], cols[order], strict=True):
        if result[row] == UNASSIGNED and left[col] > 0:
            result[row] = col
            left[col] -= 1
    return result


def total_score(scores: np.ndarray, assignment: np.ndarray) -> float:
    matched = assignment != UNASSIGNED
    return float(scores[np.nonzero(matched)[0], assignment[matched]].astype(np.float64).sum())
