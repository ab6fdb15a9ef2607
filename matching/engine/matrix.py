"""The scored matrix every mode starts from, and why a row of it is blocked.

Shared by `api` (one-to-one and reverse) and `circles`, so neither imports the other."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from . import scoring
from .types import BoolMatrix, FloatMatrix, MatchSettings, Person

# Why someone is left out, in words a coordinator can act on.
RULE_REASONS = {
    "same_person": "the only mentors are themselves",
    "reporting_chain": "every mentor who could take them is in their reporting chain",
    "past_partner": "every eligible mentor has been their partner before",
    "excluded": "you excluded every mentor who could take them",
    "language": "no mentor speaks their language",
    "time_zone": "no mentor is within the time-zone limit",
    "level_direction": "no mentor is at the right level for this kind of program",
}


def scored_matrix(
    mentees: Sequence[Person], mentors: Sequence[Person], settings: MatchSettings
) -> tuple[FloatMatrix, dict[str, BoolMatrix], FloatMatrix | None]:
    """Scores with forbidden pairs set negative, the rule masks that forbade them, and the
    text similarities (None when that part has no weight)."""
    text = None
    if settings.weights.text > 0:
        text = scoring.text_similarity_matrix([p.text for p in mentees], [p.text for p in mentors])
    scores = scoring.score_matrix(mentees, mentors, settings, text_similarity=text)
    masks = scoring.rule_masks(mentees, mentors, settings)
    if masks:
        feasible = scoring.feasible_matrix(masks, (scores.shape[0], scores.shape[1]))
        np.copyto(scores, scoring.INFEASIBLE, where=~feasible)
    return scores, masks, text


def blocking_rule(row: int, masks: Mapping[str, BoolMatrix]) -> tuple[str, str]:
    """The rule that alone stands between this mentee and every mentor, if there is one."""
    names = list(masks)
    for name in names:
        others = np.ones(next(iter(masks.values())).shape[1], dtype=bool)
        for other in names:
            if other != name:
                others &= masks[other][row]
        if others.any():
            return name, RULE_REASONS[name]
    blocking = [name for name in names if not masks[name][row].all()]
    words = " and ".join(name.replace("_", " ") for name in blocking) or "the rules"
    return "several_rules", f"{words} together rule out every mentor"
