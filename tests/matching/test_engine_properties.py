"""Whatever the cohort and the rules, no result of the engine (pairs, peers or circles) breaks a
hard rule: capacity, never the same person, reporting chains, past partners, exclusions, a shared
language when required, the time-zone limit, the level rules. The rules are re-stated here from
their description, not taken from the engine's own check. Pure: no database."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

from hypothesis import given
from hypothesis import strategies as st

from matching.engine import MatchResult, MatchSettings, Person, Rules, match
from tests.matching import test_circles, test_peer

Role = Literal["mentor", "mentee", "peer"]
LANGUAGES = ["english", "german", "french"]
OFFSETS = [None, -5.0, 0.0, 1.0, 5.5, 10.0, 12.0]


def gap(a: float, b: float) -> float:
    delta = abs(a - b)
    return min(delta, 24 - delta)


def assert_allowed(mentee: Person, mentor: Person, settings: MatchSettings) -> None:
    """`mentee` and `mentor` (peers: either way round) may be put together."""
    rules = settings.rules
    assert mentee.id != mentor.id
    assert mentee.user_id != mentor.user_id, "never the same person"
    assert mentor.user_id not in mentee.reporting_chain
    assert mentee.user_id not in mentor.reporting_chain
    if not rules.allow_past_partners:
        assert mentor.user_id not in mentee.past_partner_user_ids
        assert mentee.user_id not in mentor.past_partner_user_ids
    assert (mentor.id, mentee.id) not in rules.excluded_pairs
    assert (mentee.id, mentor.id) not in rules.excluded_pairs
    if rules.require_shared_language and mentee.languages and mentor.languages:
        assert mentee.languages & mentor.languages
    limit = rules.max_time_zone_gap_hours
    here, there = mentee.utc_offset_hours, mentor.utc_offset_hours
    if limit is not None and here is not None and there is not None:
        assert gap(here, there) <= limit
    if settings.mode == "reverse":
        assert mentee.level is not None
        assert mentor.level is not None
        assert mentee.level > mentor.level, "reverse: the mentor is the more junior"
    peer_limit = rules.max_peer_level_gap if settings.mode == "peer" else None
    if peer_limit is not None and mentee.level is not None and mentor.level is not None:
        assert abs(mentee.level - mentor.level) <= peer_limit


def assert_pairs_valid(result: MatchResult, people: list[Person], settings: MatchSettings) -> None:
    """One-to-one and reverse: within capacity, a mentee once at most, every rule kept, and
    every mentee matched or told why not."""
    by_id = {p.id: p for p in people}
    for pair in result.pairs:
        mentor, mentee = by_id[pair.mentor_id], by_id[pair.mentee_id]
        assert mentor.role == "mentor"
        assert mentee.role == "mentee"
        assert_allowed(mentee, mentor, settings)
    load = Counter(pair.mentor_id for pair in result.pairs)
    assert all(load[m] <= by_id[m].capacity for m in load), "capacity"
    matched = [pair.mentee_id for pair in result.pairs]
    assert len(matched) == len(set(matched)), "a mentee has one mentor"
    mentee_ids = {p.id for p in people if p.role == "mentee"}
    reported = {u.person_id for u in result.unmatched} & mentee_ids
    assert set(matched) | reported == mentee_ids
    assert not set(matched) & reported


# --- Cohorts ---------------------------------------------------------------------------------

terms = st.frozensets(st.integers(0, 6), max_size=3)
languages = st.frozensets(st.sampled_from(LANGUAGES), max_size=2)


@st.composite
def people(
    draw: st.DrawFn, role: Role, ids: list[int], user_ids: list[int], others: Sequence[int] = ()
) -> list[Person]:
    """People of one role with these ids and user ids; their managers and past partners are
    drawn from everyone's user ids (`user_ids` and `others`)."""
    everyone = sorted({*user_ids, *others}) or [0]
    return [
        Person(
            id=id,
            user_id=user_id,
            role=role,
            capacity=draw(st.integers(0, 3)) if role != "mentee" else 1,
            develop=draw(terms),
            seek=draw(terms),
            offer=draw(terms),
            expertise=draw(terms),
            department=draw(st.sampled_from("AB")),
            level=draw(st.none() | st.integers(1, 8)),
            reporting_chain=draw(st.frozensets(st.sampled_from(everyone), max_size=1)),
            utc_offset_hours=draw(st.sampled_from(OFFSETS)),
            languages=draw(languages),
            prefers_other_department=draw(st.booleans()),
            prefers_same_time_zone=draw(st.booleans()),
            past_partner_user_ids=draw(st.frozensets(st.sampled_from(everyone), max_size=1)),
        )
        for id, user_id in zip(ids, user_ids, strict=True)
    ]


@st.composite
def bipartite_cohorts(draw: st.DrawFn) -> list[Person]:
    mentors = draw(st.integers(0, 6))
    mentees = draw(st.integers(0, 10))
    mentor_ids = [100 + j for j in range(mentors)]
    mentee_ids = list(range(mentees))
    # A mentor who also enrolled as a mentee: the same user, two enrolments.
    mentee_users = list(mentee_ids)
    for i in mentee_ids[:2]:
        same_person: bool = draw(st.booleans())
        if mentor_ids and same_person:
            mentee_users[i] = draw(st.sampled_from(mentor_ids))
    mentor_people = draw(people("mentor", mentor_ids, mentor_ids, mentee_users))
    return mentor_people + draw(people("mentee", mentee_ids, mentee_users, mentor_ids))


@st.composite
def rules_for(draw: st.DrawFn, cohort: list[Person]) -> Rules:
    ids = [p.id for p in cohort] or [0]
    return Rules(
        require_shared_language=draw(st.booleans()),
        max_time_zone_gap_hours=draw(st.sampled_from([None, 0.0, 2.0, 6.0])),
        allow_past_partners=draw(st.booleans()),
        max_peer_level_gap=draw(st.sampled_from([None, 0, 2])),
        excluded_pairs=draw(st.frozensets(st.tuples(st.sampled_from(ids), st.sampled_from(ids)))),
    )


# --- Properties ------------------------------------------------------------------------------


@given(
    cohort_and_rules=bipartite_cohorts().flatmap(
        lambda cohort: st.tuples(st.just(cohort), rules_for(cohort))
    ),
    mode=st.sampled_from(["one_to_one", "reverse"]),
    objective=st.sampled_from(["score", "coverage"]),
)
def test_no_pair_breaks_a_hard_rule(cohort_and_rules, mode, objective):
    cohort, rules = cohort_and_rules
    settings = MatchSettings(mode=mode, objective=objective, rules=rules)

    result = match(people=cohort, settings=settings)

    assert_pairs_valid(result, cohort, settings)


@st.composite
def peer_pools(draw: st.DrawFn) -> list[Person]:
    size = draw(st.integers(0, 12))
    ids = list(range(size))
    return draw(people("peer", ids, ids))


@given(
    pool_and_rules=peer_pools().flatmap(lambda pool: st.tuples(st.just(pool), rules_for(pool))),
    objective=st.sampled_from(["score", "coverage"]),
)
def test_no_peer_pair_breaks_a_hard_rule(pool_and_rules, objective):
    pool, rules = pool_and_rules
    settings = MatchSettings(mode="peer", objective=objective, rules=rules)

    result = match(people=pool, settings=settings)

    test_peer.check_valid(result, pool, settings)
    by_id = {p.id: p for p in pool}
    for pair in result.pairs:
        one, other = by_id[pair.mentor_id], by_id[pair.mentee_id]
        assert_allowed(one, other, settings)
        assert_allowed(other, one, settings)


@given(
    cohort_and_rules=bipartite_cohorts().flatmap(
        lambda cohort: st.tuples(st.just(cohort), rules_for(cohort))
    ),
    shape=st.sampled_from([(5, 1), (4, 1), (6, 2)]),
)
def test_no_circle_breaks_a_hard_rule(cohort_and_rules, shape):
    cohort, rules = cohort_and_rules
    circle_size, mentors_per_circle = shape
    settings = replace(
        test_circles.CIRCLES,
        circle_size=circle_size,
        mentors_per_circle=mentors_per_circle,
        rules=rules,
    )

    result = match(people=cohort, settings=settings)

    test_circles.check_valid(result, cohort, settings)
    by_id = {p.id: p for p in cohort}
    for circle in result.circles:
        for j in circle.mentor_ids:
            for i in circle.member_ids:
                assert_allowed(by_id[i], by_id[j], settings)
