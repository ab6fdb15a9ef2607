"""How well a mentor fits a mentee, for every pair at once, and which pairs the rules forbid.

Each part of the fit is a number from 0 to 1 (see `COMPONENTS` in types); the pair's score is
their weighted mean, so it is 0..1 too. The same formulas exist twice: vectorised over the whole
cohort (`score_matrix`, for the solver) and for one pair (`pair_components`, for explanations and
hand swaps); a test holds them equal.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import sparse

from .types import BoolMatrix, FloatMatrix, MatchSettings, Person, Weights

INFEASIBLE = np.float32(-1.0)
UNKNOWN = 0.5  # a part we cannot judge (no level, no time zone) counts as half

# The hard rules, by the name the pre-match report and unmatched reasons use.
RULES = (
    "same_person",
    "reporting_chain",
    "past_partner",
    "excluded",
    "language",
    "time_zone",
    "level_direction",
)
# Rules a coordinator may relax for one run; the level rule defines reverse and peer
# programs, so it is not one of them.
RELAXABLE_RULES = ("language", "time_zone", "past_partner")


# --- The formulas, on numpy arrays (scalars work too) ----------------------------------------


def level_fit(gap: ArrayLike, mode: str) -> FloatMatrix:
    """`gap` = mentor's level minus mentee's (reverse: mentee's minus mentor's; peers: either).
    NaN where a level is unknown."""
    gaps = np.asarray(gap, dtype=np.float32)
    if mode == "peer":
        distance = np.abs(gaps)
        fit = np.select([distance == 0, distance == 1, distance == 2], [1.0, 0.7, 0.3], 0.0)
    else:
        fit = np.select(
            [gaps >= 4, gaps >= 1, gaps == 0], [0.6, 1.0, 0.3], 0.0
        )  # 1-3 levels up is the sweet spot; a huge gap helps less; the wrong way not at all
    return np.where(np.isnan(gaps), UNKNOWN, fit).astype(np.float32)


def time_zone_gap(a: ArrayLike, b: ArrayLike) -> FloatMatrix:
    """Hours between two UTC offsets, the short way round the clock. NaN when unknown."""
    delta = np.abs(np.asarray(a, dtype=np.float32) - np.asarray(b, dtype=np.float32))
    # asarray: on two scalars numpy gives a scalar back, and callers index and compare arrays.
    return np.asarray(np.minimum(delta, 24.0 - delta), dtype=np.float32)


def time_zone_fit(gap: FloatMatrix, mentee_prefers_same: ArrayLike) -> FloatMatrix:
    fit = np.select([gap <= 1, gap <= 3, gap <= 6], [1.0, 0.6, 0.3], 0.0)
    fit = np.where(np.asarray(mentee_prefers_same) & (gap > 1), 0.0, fit)
    return np.where(np.isnan(gap), UNKNOWN, fit).astype(np.float32)


def department_fit(differ: ArrayLike, known: ArrayLike, prefers_other: ArrayLike) -> FloatMatrix:
    fit = np.where(np.asarray(prefers_other), np.where(differ, 1.0, 0.0), UNKNOWN)
    return np.where(known, fit, UNKNOWN).astype(np.float32)


def weighted_total(
    parts: Mapping[str, FloatMatrix | np.float32], weights: Weights
) -> FloatMatrix | np.float32:
    used = {name: w for name, w in weights.as_dict().items() if w > 0}
    total_weight = sum(used.values()) or 1.0
    total: FloatMatrix | np.float32 | None = None
    for name, weight in used.items():
        term = parts[name] * np.float32(weight / total_weight)
        total = term if total is None else total + term
    return total if total is not None else np.float32(0.0)


# --- One pair -----------------------------------------------------------------------------------


def _overlap(wanted: frozenset[int], offered: frozenset[int]) -> tuple[float, tuple[int, ...]]:
    shared = wanted & offered
    return (len(shared) / len(wanted) if wanted else 0.0), tuple(sorted(shared))


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def pair_components(
    mentee: Person, mentor: Person, settings: MatchSettings, text_similarity: float = 0.0
) -> tuple[dict[str, float], dict[str, tuple[int, ...]]]:
    """Each part of the fit of one pair, and the competencies that met."""
    development, shared_development = _overlap(mentee.develop, mentor.expertise)
    skills, shared_skills = _overlap(mentee.seek, mentor.offer)
    gap = _level_gap(mentee.level, mentor.level, settings.mode)
    tz_gap = time_zone_gap(_nan(mentee.utc_offset_hours), _nan(mentor.utc_offset_hours))
    languages_known = bool(mentee.languages and mentor.languages)
    parts = {
        "development": development,
        "skills": skills,
        "department": float(
            department_fit(
                mentee.department != mentor.department,
                bool(mentee.department and mentor.department),
                mentee.prefers_other_department,
            )
        ),
        "level": float(level_fit(gap, settings.mode)),
        "time_zone": float(time_zone_fit(tz_gap, mentee.prefers_same_time_zone)),
        "language": (1.0 if mentee.languages & mentor.languages else 0.0)
        if languages_known
        else UNKNOWN,
        "text": text_similarity,
    }
    return parts, {"development": shared_development, "skills": shared_skills}


def pair_score(parts: dict[str, float], weights: Weights) -> float:
    return float(weighted_total({k: np.float32(v) for k, v in parts.items()}, weights))


def pair_rule_broken(mentee: Person, mentor: Person, settings: MatchSettings) -> str | None:
    """The first hard rule the pair breaks, or None."""
    rules = settings.rules
    if mentee.user_id == mentor.user_id:
        return "same_person"
    if mentor.user_id in mentee.reporting_chain or mentee.user_id in mentor.reporting_chain:
        return "reporting_chain"
    if not rules.allow_past_partners and (
        mentor.user_id in mentee.past_partner_user_ids
        or mentee.user_id in mentor.past_partner_user_ids
    ):
        return "past_partner"
    if (mentor.id, mentee.id) in rules.excluded_pairs or (
        mentee.id,
        mentor.id,
    ) in rules.excluded_pairs:
        return "excluded"
    if (
        rules.require_shared_language
        and mentee.languages
        and mentor.languages
        and not mentee.languages & mentor.languages
    ):
        return "language"
    if rules.max_time_zone_gap_hours is not None:
        gap = time_zone_gap(_nan(mentee.utc_offset_hours), _nan(mentor.utc_offset_hours))
        if not np.isnan(gap) and gap > rules.max_time_zone_gap_hours:
            return "time_zone"
    if settings.mode == "reverse" and not (
        mentee.level is not None and mentor.level is not None and mentee.level > mentor.level
    ):
        return "level_direction"
    if (
        settings.mode == "peer"
        and rules.max_peer_level_gap is not None
        and mentee.level is not None
        and mentor.level is not None
        and abs(mentee.level - mentor.level) > rules.max_peer_level_gap
    ):
        return "level_direction"
    return None


# --- Everyone at once ---------------------------------------------------------------------------


def _one_hot(sets: Sequence[frozenset[int]], index: dict[int, int]) -> sparse.csr_matrix:
    rows, cols = [], []
    for row, items in enumerate(sets):
        for item in items:
            rows.append(row)
            cols.append(index[item])
    data = np.ones(len(rows), dtype=np.float32)
    return sparse.csr_matrix((data, (rows, cols)), shape=(len(sets), max(len(index), 1)))


def _overlap_matrix(
    wanted: Sequence[frozenset[int]], offered: Sequence[frozenset[int]]
) -> FloatMatrix:
    """|wanted_i ∩ offered_j| / |wanted_i| for every i, j (0 where nothing is wanted)."""
    index = {term: i for i, term in enumerate(sorted(set().union(*wanted, *offered)))}
    counts = (_one_hot(wanted, index) @ _one_hot(offered, index).T).toarray()
    sizes = np.array([max(len(w), 1) for w in wanted], dtype=np.float32)
    return (counts / sizes[:, None]).astype(np.float32, copy=False)


def _column(values: Sequence[float | None]) -> FloatMatrix:
    return np.array([math.nan if v is None else v for v in values], dtype=np.float32)


def _lookup(
    row_keys: Sequence[Hashable],
    col_keys: Sequence[Hashable],
    fit: Callable[[Any, Any], float],
) -> FloatMatrix:
    """fit(row_key, col_key) for every row x column, computed once per distinct pair of keys.
    Levels, time zones and departments take few distinct values, so this is one cheap
    indexing pass instead of several arithmetic passes over the whole matrix."""
    row_values = list(dict.fromkeys(row_keys))
    col_values = list(dict.fromkeys(col_keys))
    table = np.array(
        [[fit(a, b) for b in col_values] for a in row_values], dtype=np.float32
    ).reshape(len(row_values), len(col_values))
    row_code = {v: i for i, v in enumerate(row_values)}
    col_code = {v: i for i, v in enumerate(col_values)}
    rows = np.array([row_code[k] for k in row_keys], dtype=np.int32)
    cols = np.array([col_code[k] for k in col_keys], dtype=np.int32)
    return table[rows[:, None], cols[None, :]]


def score_matrix(
    mentees: Sequence[Person],
    mentors: Sequence[Person],
    settings: MatchSettings,
    text_similarity: FloatMatrix | None = None,
) -> FloatMatrix:
    """Scores (mentees x mentors, float32, 0..1) before the hard rules. The categorical parts
    go through `_lookup` with the very functions `pair_components` uses, so the two agree."""
    mode = settings.mode
    used = {name: w for name, w in settings.weights.as_dict().items() if w > 0}
    total_weight = sum(used.values()) or 1.0
    total = np.zeros((len(mentees), len(mentors)), dtype=np.float32)

    def add(part: FloatMatrix, name: str) -> None:
        part *= np.float32(used[name] / total_weight)
        total.__iadd__(part)

    if "development" in used:
        add(
            _overlap_matrix([p.develop for p in mentees], [p.expertise for p in mentors]),
            "development",
        )
    if "skills" in used:
        add(_overlap_matrix([p.seek for p in mentees], [p.offer for p in mentors]), "skills")
    if "department" in used:
        add(
            _lookup(
                [(p.department, p.prefers_other_department) for p in mentees],
                [p.department for p in mentors],
                lambda a, b: float(department_fit(a[0] != b, bool(a[0] and b), a[1])),
            ),
            "department",
        )
    if "level" in used:
        add(
            _lookup(
                [p.level for p in mentees],
                [p.level for p in mentors],
                lambda a, b: float(level_fit(_level_gap(a, b, mode), mode)),
            ),
            "level",
        )
    if "time_zone" in used:
        add(
            _lookup(
                [(p.utc_offset_hours, p.prefers_same_time_zone) for p in mentees],
                [p.utc_offset_hours for p in mentors],
                lambda a, b: float(time_zone_fit(time_zone_gap(_nan(a[0]), _nan(b)), a[1])),
            ),
            "time_zone",
        )
    if "language" in used:
        add(_language_fit(mentees, mentors), "language")
    if "text" in used and text_similarity is not None:
        add(text_similarity.astype(np.float32, copy=True), "text")
    return total


def _level_gap(mentee_level: int | None, mentor_level: int | None, mode: str) -> float:
    if mode == "reverse":
        return _nan(mentee_level) - _nan(mentor_level)
    return _nan(mentor_level) - _nan(mentee_level)


def _language_fit(mentees: Sequence[Person], mentors: Sequence[Person]) -> FloatMatrix:
    """1 where a pair shares a language, 0 where it shares none, half where either side did
    not say. People speak few distinct sets of languages, so this is a lookup."""
    return _lookup(
        [p.languages for p in mentees],
        [p.languages for p in mentors],
        lambda a, b: (1.0 if a & b else 0.0) if a and b else UNKNOWN,
    )


def rule_masks(
    mentees: Sequence[Person], mentors: Sequence[Person], settings: MatchSettings
) -> dict[str, BoolMatrix]:
    """For each hard rule, where it ALLOWS a pair (mentees x mentors, bool). Rules that allow
    everything here are left out, to save memory on big cohorts."""
    rules = settings.rules
    shape = (len(mentees), len(mentors))
    masks: dict[str, BoolMatrix] = {}
    mentor_col_by_user: dict[int, list[int]] = {}
    for j, mentor in enumerate(mentors):
        mentor_col_by_user.setdefault(mentor.user_id, []).append(j)
    mentee_row_by_user: dict[int, list[int]] = {}
    for i, mentee in enumerate(mentees):
        mentee_row_by_user.setdefault(mentee.user_id, []).append(i)

    def forbid_pairs(name: str, pairs: list[tuple[int, int]]) -> None:
        if pairs:
            mask = np.ones(shape, dtype=bool)
            rows, cols = zip(*pairs, strict=True)
            mask[list(rows), list(cols)] = False
            masks[name] = mask

    forbid_pairs(
        "same_person",
        [(i, j) for i, m in enumerate(mentees) for j in mentor_col_by_user.get(m.user_id, [])],
    )
    chain: list[tuple[int, int]] = []
    for i, mentee in enumerate(mentees):
        for user_id in mentee.reporting_chain:
            chain.extend((i, j) for j in mentor_col_by_user.get(user_id, []))
    for j, mentor in enumerate(mentors):
        for user_id in mentor.reporting_chain:
            chain.extend((i, j) for i in mentee_row_by_user.get(user_id, []))
    forbid_pairs("reporting_chain", chain)
    if not rules.allow_past_partners:
        past: list[tuple[int, int]] = []
        for i, mentee in enumerate(mentees):
            for user_id in mentee.past_partner_user_ids:
                past.extend((i, j) for j in mentor_col_by_user.get(user_id, []))
        for j, mentor in enumerate(mentors):
            for user_id in mentor.past_partner_user_ids:
                past.extend((i, j) for i in mentee_row_by_user.get(user_id, []))
        forbid_pairs("past_partner", past)
    if rules.excluded_pairs:
        mentee_row = {p.id: i for i, p in enumerate(mentees)}
        mentor_col = {p.id: j for j, p in enumerate(mentors)}
        excluded = []
        for a, b in rules.excluded_pairs:
            for mentee_id, mentor_id in ((a, b), (b, a)):
                if mentee_id in mentee_row and mentor_id in mentor_col:
                    excluded.append((mentee_row[mentee_id], mentor_col[mentor_id]))
        forbid_pairs("excluded", excluded)
    if rules.require_shared_language:
        allowed = _language_fit(mentees, mentors) > 0  # shared, or not said: not ruled out
        if not allowed.all():
            masks["language"] = allowed
    if rules.max_time_zone_gap_hours is not None:
        gap = time_zone_gap(
            _column([p.utc_offset_hours for p in mentees])[:, None],
            _column([p.utc_offset_hours for p in mentors])[None, :],
        )
        allowed = np.isnan(gap) | (gap <= rules.max_time_zone_gap_hours)
        if not allowed.all():
            masks["time_zone"] = allowed
    mentee_level = _column([p.level for p in mentees])[:, None]
    mentor_level = _column([p.level for p in mentors])[None, :]
    if settings.mode == "reverse":
        masks["level_direction"] = mentee_level > mentor_level  # NaN compares False: unknown fails
    elif settings.mode == "peer" and rules.max_peer_level_gap is not None:
        gap = np.abs(mentee_level - mentor_level)
        allowed = np.isnan(gap) | (gap <= rules.max_peer_level_gap)
        if not allowed.all():
            masks["level_direction"] = allowed
    return masks


def feasible_matrix(masks: Mapping[str, BoolMatrix], shape: tuple[int, int]) -> BoolMatrix:
    feasible = np.ones(shape, dtype=bool)
    for mask in masks.values():
        feasible &= mask
    return feasible


# --- What they wrote ----------------------------------------------------------------------------

_WORD = re.compile(r"[a-zà-ÿ]{3,}")
_STOP = frozenset(
    "the and for with that this from have want would like more into about their them they "
    "what when where which while your you our are was were been being how can could should "
    "will also other some such than then there these those very just".split()
)


def _tokens(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


def text_similarity_matrix(mentee_texts: Sequence[str], mentor_texts: Sequence[str]) -> FloatMatrix:
    """Cosine similarity of TF-IDF word vectors: a light signal for what people wrote in their
    own words. Hashed into a fixed vocabulary so memory does not grow with the cohort."""
    buckets = 2**18
    docs = [_tokens(t) for t in (*mentee_texts, *mentor_texts)]
    rows, cols, data = [], [], []
    for row, words in enumerate(docs):
        for word in words:
            rows.append(row)
            # crc32, not hash(): Python salts str hashes per process, and results must repeat.
            cols.append(zlib.crc32(word.encode()) % buckets)
            data.append(1.0)
    counts = sparse.csr_matrix(
        (np.array(data, dtype=np.float32), (rows, cols)), shape=(len(docs), buckets)
    )
    counts.sum_duplicates()
    document_frequency = np.bincount(counts.indices, minlength=buckets)
    idf = np.log((1 + len(docs)) / (1 + document_frequency)).astype(np.float32) + 1
    # scipy-stubs type spmatrix.multiply(dense) as a dense array (it aliases `*`, which is matrix
    # product for spmatrix); elementwise multiply really returns a coo_matrix, which has tocsr().
    weighted = counts.multiply(idf[None, :]).tocsr()  # type: ignore[attr-defined]
    norms = np.sqrt(weighted.multiply(weighted).sum(axis=1)).A.ravel()
    norms[norms == 0] = 1
    weighted = sparse.diags(1 / norms) @ weighted
    n = len(mentee_texts)
    return (weighted[:n] @ weighted[n:].T).toarray().astype(np.float32)
