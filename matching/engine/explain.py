"""A pair's score in words, for the coordinator reviewing it and for the pair themselves."""

from __future__ import annotations

from collections.abc import Mapping

from .types import MatchSettings, Pair, Person

LEVEL_WORDS = {
    1: "one level",
    2: "two levels",
    3: "three levels",
    4: "four levels",
    5: "five levels",
    6: "six levels",
    7: "seven levels",
}


def _names(ids: tuple[int, ...], names: Mapping[int, str]) -> str:
    return ", ".join(sorted(names.get(i, f"#{i}").lower() for i in ids))


def pair_reasons(
    pair: Pair,
    mentee: Person,
    mentor: Person,
    *,
    names: Mapping[int, str],
    settings: MatchSettings,
) -> list[str]:
    """Short phrases, strongest first: what they share, then the practical fit."""
    reasons = []
    parts = pair.components
    if settings.mode == "peer":
        return _peer_reasons(pair, mentee, mentor, names=names) or [
            "no shared competencies: a pairing on availability only"
        ]
    if pair.shared.get("development"):
        reasons.append(
            f"mentor has expertise in what the mentee wants to develop: "
            f"{_names(pair.shared['development'], names)}"
        )
    if pair.shared.get("skills"):
        reasons.append(f"mentor offers {_names(pair.shared['skills'], names)}")
    if mentee.prefers_other_department and parts.get("department") == 1.0:
        reasons.append("another department, as the mentee asked")
    elif parts.get("department") == 0.0:
        reasons.append("same department, though the mentee asked for another")
    if mentee.level is not None and mentor.level is not None:
        gap = mentor.level - mentee.level
        if settings.mode == "reverse" and gap < 0:
            reasons.append(f"mentor is {LEVEL_WORDS.get(-gap, f'{-gap} levels')} more junior")
        elif gap > 0:
            reasons.append(f"mentor is {LEVEL_WORDS.get(gap, f'{gap} levels')} more senior")
    time_zone = parts.get("time_zone")
    if time_zone == 1.0 and mentee.utc_offset_hours is not None:
        reasons.append(
            "same time zone"
            if mentee.utc_offset_hours == mentor.utc_offset_hours
            else "time zones within an hour"
        )
    elif time_zone is not None and time_zone <= 0.3 and mentee.utc_offset_hours is not None:
        reasons.append("far apart in time zones")
    shared_languages = sorted(mentee.languages & mentor.languages)
    if shared_languages and (len(mentee.languages) > 1 or shared_languages != ["english"]):
        reasons.append("both speak " + ", ".join(lang.title() for lang in shared_languages))
    if not reasons:
        reasons.append("no shared competencies: a pairing on availability only")
    return reasons


def pair_explanation(
    pair: Pair,
    mentee: Person,
    mentor: Person,
    *,
    names: Mapping[int, str],
    settings: MatchSettings,
) -> str:
    """One sentence: "Mentor has expertise in …; mentor offers …; same time zone"."""
    text = "; ".join(pair_reasons(pair, mentee, mentor, names=names, settings=settings))
    return text[:1].upper() + text[1:] + "."


def _peer_reasons(
    pair: Pair, first: Person, second: Person, *, names: Mapping[int, str]
) -> list[str]:
    """Peers mentor each other, so the pair is described both ways round."""
    reasons = []
    helps = tuple(
        sorted(set(pair.shared.get("development", ())) | set(pair.shared.get("skills", ())))
    )
    if helps:
        reasons.append(f"each can help the other with: {_names(helps, names)}")
    if first.level is not None and second.level is not None:
        gap = abs(first.level - second.level)
        reasons.append(
            "same level" if gap == 0 else f"{LEVEL_WORDS.get(gap, f'{gap} levels')} apart"
        )
    if pair.components.get("department") == 1.0:
        reasons.append("different departments, as asked")
    if pair.components.get("time_zone") == 1.0 and first.utc_offset_hours is not None:
        reasons.append(
            "same time zone"
            if first.utc_offset_hours == second.utc_offset_hours
            else "time zones within an hour"
        )
    shared_languages = sorted(first.languages & second.languages)
    if shared_languages and (len(first.languages) > 1 or shared_languages != ["english"]):
        reasons.append("both speak " + ", ".join(lang.title() for lang in shared_languages))
    return reasons
