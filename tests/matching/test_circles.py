"""Circle mode: small groups with one or two mentors, formed around shared development areas,
never breaking a rule, and saying why anyone is left out. Pure: no database."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace

import numpy as np
import pytest

from matching.engine import MatchResult, MatchSettings, Person, match, scoring
from matching.engine.circles import SHARED_WEIGHT, match_circles

CIRCLES = MatchSettings(mode="circle", circle_size=5, mentors_per_circle=1)
PAIRS_OF_MENTORS = replace(CIRCLES, circle_size=6, mentors_per_circle=2)


def mentor(id: int, **fields) -> Person:
    fields.setdefault("languages", frozenset({"english"}))
    fields.setdefault("level", 5)
    return Person(id=id, user_id=id, role="mentor", **fields)


def mentee(id: int, **fields) -> Person:
    fields.setdefault("languages", frozenset({"english"}))
    fields.setdefault("level", 2)
    return Person(id=id, user_id=id, role="mentee", **fields)


def random_cohort(seed: int, mentees: int, mentors: int, terms: int = 12) -> list[Person]:
    rng = random.Random(seed)

    def pick(k: int) -> frozenset[int]:
        return frozenset(rng.sample(range(terms), k))

    people = [
        mentor(
            1000 + j,
            expertise=pick(rng.randint(2, 4)),
            offer=pick(2),
            level=rng.randint(3, 8),
            department=rng.choice("AB"),
            languages=frozenset({"english", "german"} if rng.random() < 0.3 else {"english"}),
        )
        for j in range(mentors)
    ]
    people += [
        mentee(
            i,
            develop=pick(rng.randint(1, 3)),
            seek=pick(1),
            level=rng.randint(1, 5),
            department=rng.choice("AB"),
            languages=frozenset({"german"} if rng.random() < 0.05 else {"english"}),
            reporting_chain=frozenset({1000 + rng.randrange(mentors)})
            if rng.random() < 0.2
            else frozenset(),
        )
        for i in range(mentees)
    ]
    return people


def run(people: list[Person], settings: MatchSettings) -> MatchResult:
    return match(people=people, settings=settings)


def check_valid(result: MatchResult, people: list[Person], settings: MatchSettings) -> None:
    """Every circle has M mentors and at most K - M mentees, nobody is in two circles, no rule
    is broken, and every mentee is either in a circle or reported."""
    by_id = {p.id: p for p in people}
    seats = settings.circle_size - settings.mentors_per_circle
    members = [i for c in result.circles for i in c.member_ids]
    leaders = [j for c in result.circles for j in c.mentor_ids]
    assert len(members) == len(set(members))
    assert len(leaders) == len(set(leaders))
    for circle in result.circles:
        assert len(circle.mentor_ids) == settings.mentors_per_circle
        assert 1 <= len(circle.member_ids) <= seats
        for j in circle.mentor_ids:
            for i in circle.member_ids:
                assert scoring.pair_rule_broken(by_id[i], by_id[j], settings) is None
    unmatched = {u.person_id for u in result.unmatched}
    mentee_ids = {p.id for p in people if p.role == "mentee"}
    mentor_ids = {p.id for p in people if p.role == "mentor"}
    assert set(members) | (unmatched & mentee_ids) == mentee_ids
    assert set(leaders) | (unmatched & mentor_ids) == mentor_ids
    assert not unmatched & (set(members) | set(leaders))
    pairs = {(p.mentor_id, p.mentee_id) for p in result.pairs}
    assert pairs == {(j, i) for c in result.circles for j in c.mentor_ids for i in c.member_ids}


def test_it_forms_circles_of_one_mentor_and_at_most_four_mentees():
    people = random_cohort(1, mentees=40, mentors=12)

    result = run(people, CIRCLES)

    check_valid(result, people, CIRCLES)
    assert len(result.circles) == 10  # 40 mentees, 4 seats a circle, 12 mentors to choose from
    assert result.matched_count >= 38  # only a rule keeps anyone out
    assert result.objective_value == pytest.approx(sum(c.score for c in result.circles))
    assert all(0 <= c.score <= 1 for c in result.circles)


def test_it_forms_circles_with_two_mentors_of_complementary_expertise():
    people = [
        mentor(101, expertise=frozenset({1, 2})),
        mentor(102, expertise=frozenset({1, 2})),
        mentor(103, expertise=frozenset({7, 8})),
        mentor(104, expertise=frozenset({7, 8})),
        *(mentee(i, develop=frozenset({1, 7})) for i in range(1, 9)),
    ]

    result = run(people, PAIRS_OF_MENTORS)

    check_valid(result, people, PAIRS_OF_MENTORS)
    assert sorted(c.mentor_ids for c in result.circles) == [(101, 103), (102, 104)]
    assert sorted(len(c.member_ids) for c in result.circles) == [4, 4]


def test_it_puts_each_cluster_of_interests_with_its_expert():
    design, data = frozenset({1, 2, 3}), frozenset({7, 8, 9})
    people = [
        mentor(101, expertise=data),
        # Knows a little of both: a fair second choice for everyone, but nobody's first.
        mentor(102, expertise=frozenset({1, 7})),
        mentor(103, expertise=design),
        *(mentee(i, develop=design - {i % 3 + 1}) for i in range(1, 5)),
        *(mentee(i, develop=data - {i % 3 + 7}) for i in range(5, 9)),
    ]

    result = run(people, CIRCLES)

    check_valid(result, people, CIRCLES)
    circles = {c.mentor_ids: c for c in result.circles}
    assert set(circles) == {(101,), (103,)}
    assert circles[103,].member_ids == (1, 2, 3, 4)
    assert circles[101,].member_ids == (5, 6, 7, 8)
    assert circles[103,].shared_development == (1, 2, 3)
    assert [(u.person_id, u.reason_code) for u in result.unmatched] == [(102, "not_needed")]


def test_it_groups_people_who_want_the_same_things_when_mentors_fit_all_alike():
    # The mentors fit everyone equally, so only shared development areas tell circles apart:
    # the local search has to find the grouping.
    people = [mentor(101), mentor(102), mentor(103)]
    interests = [frozenset({1, 2}), frozenset({5, 6}), frozenset({8, 9})]
    people += [mentee(i, develop=interests[i % 3]) for i in range(1, 13)]

    result = run(people, CIRCLES)

    check_valid(result, people, CIRCLES)
    for circle in result.circles:
        assert len({interests[i % 3] for i in circle.member_ids}) == 1, circle
        assert len(circle.shared_development) == 2


def test_it_reports_a_mentee_no_mentor_can_take_with_the_rule_that_blocks_them():
    people = [
        mentor(101),
        mentor(102),
        mentee(1),
        mentee(2),
        mentee(3, languages=frozenset({"german"})),
    ]

    result = run(people, CIRCLES)

    check_valid(result, people, CIRCLES)
    reasons = {u.person_id: u for u in result.unmatched}
    assert reasons[3].reason_code == "language"
    assert "language" in reasons[3].reason


def test_it_says_when_every_seat_is_taken_and_which_mentors_were_not_needed():
    people = [mentor(101), mentor(102), *(mentee(i) for i in range(1, 7))]
    settings = replace(CIRCLES, circle_size=3)  # two seats a circle: four of six fit

    result = run(people, settings)

    check_valid(result, people, settings)
    left_out = [u for u in result.unmatched if u.reason_code == "capacity"]
    assert len(left_out) == 2
    assert "every seat in the 2 circles they could join is taken" in left_out[0].reason


def test_it_explains_when_there_are_not_enough_mentors_for_one_circle():
    no_mentors = run([mentee(1), mentee(2)], CIRCLES)
    one_mentor = run([mentor(101), mentee(1), mentee(2)], PAIRS_OF_MENTORS)

    assert no_mentors.circles == []
    assert {u.reason_code for u in no_mentors.unmatched} == {"no_mentors"}
    assert one_mentor.circles == []
    assert {(u.person_id, u.reason_code) for u in one_mentor.unmatched} == {
        (101, "not_enough_mentors"),
        (1, "not_enough_mentors"),
        (2, "not_enough_mentors"),
    }
    assert "circles need 2 mentors each and the cohort has 1" in one_mentor.unmatched[0].reason


def test_it_keeps_a_locked_mentee_with_their_mentor():
    people = random_cohort(4, mentees=12, mentors=5)
    first = run(people, CIRCLES)
    unused = next(u.person_id for u in first.unmatched if u.person_id >= 1000)
    settings = replace(CIRCLES, locked_pairs=((unused, 0),))

    result = run(people, settings)

    check_valid(result, people, settings)
    circle = next(c for c in result.circles if c.mentor_ids == (unused,))
    assert 0 in circle.member_ids
    assert [p.locked for p in result.pairs if p.mentee_id == 0] == [True]


@pytest.mark.parametrize("mentors_per_circle", [1, 2])
def test_it_gives_the_same_circles_for_the_same_cohort_in_any_order(mentors_per_circle):
    settings = replace(CIRCLES, circle_size=6, mentors_per_circle=mentors_per_circle)
    people = random_cohort(8, mentees=60, mentors=20)
    shuffled = people[:]
    random.Random(3).shuffle(shuffled)

    first = run(people, settings)
    again = run(shuffled, settings)

    check_valid(first, people, settings)
    assert first.circles == again.circles
    assert first.pairs == again.pairs
    assert first.unmatched == again.unmatched


Grouping = list[tuple[tuple[int, ...], tuple[int, ...]]]  # (mentor ids, member ids) by circle


def circle_objective(circles: Grouping, people: list[Person], settings: MatchSettings) -> float:
    """The objective the module docstring states, computed here from scratch."""
    by_id = {p.id: p for p in people}
    seats = settings.circle_size - settings.mentors_per_circle
    total = 0.0
    for leaders, members in circles:
        for i in members:
            total += float(
                np.mean(
                    [
                        scoring.pair_score(
                            scoring.pair_components(by_id[i], by_id[j], settings)[0],
                            settings.weights,
                        )
                        for j in leaders
                    ]
                )
            )
        for a, b in itertools.combinations(members, 2):
            wanted, too = by_id[a].develop, by_id[b].develop
            if wanted and too:
                similarity = len(wanted & too) / np.sqrt(len(wanted) * len(too))
                total += SHARED_WEIGHT * 2 / max(seats - 1, 1) * similarity
    return total


def test_it_reaches_the_best_grouping_of_small_cohorts_found_by_trying_every_one():
    settings = replace(CIRCLES, circle_size=4)  # three seats a circle
    checked = 0
    for seed in range(30):
        people = random_cohort(50 + seed, mentees=6, mentors=2, terms=6)
        mentees = [p for p in people if p.role == "mentee"]
        leads = [p for p in people if p.role == "mentor"]
        best = None
        for sides in itertools.product(range(2), repeat=len(mentees)):
            circles: list[tuple[tuple[int, ...], tuple[int, ...]]] = [
                ((lead.id,), tuple(m.id for m, s in zip(mentees, sides, strict=True) if s == c))
                for c, lead in enumerate(leads)
            ]
            allowed = all(
                scoring.pair_rule_broken(m, leads[s], settings) is None
                for m, s in zip(mentees, sides, strict=True)
            )
            if allowed and max(sides.count(0), sides.count(1)) <= 3:
                value = circle_objective(circles, people, settings)
                best = value if best is None else max(best, value)
        if best is None:
            continue  # a rule keeps someone out: not every mentee can be placed
        checked += 1

        result = run(people, settings)

        found = [(c.mentor_ids, c.member_ids) for c in result.circles]
        assert circle_objective(found, people, settings) == pytest.approx(best, abs=1e-5), seed
    assert checked >= 15


def test_it_refuses_circles_with_no_seat_for_a_mentee_or_three_mentors():
    people = [mentor(101), mentor(102), mentee(1)]
    mentors, mentees = people[:2], people[2:]

    with pytest.raises(ValueError, match="room for at least one mentee"):
        match_circles(mentors=mentors, mentees=mentees, settings=replace(CIRCLES, circle_size=1))
    with pytest.raises(ValueError, match="one or two mentors"):
        match_circles(
            mentors=mentors, mentees=mentees, settings=replace(CIRCLES, mentors_per_circle=3)
        )


def test_it_reports_progress_up_to_done():
    steps: list[int] = []

    match(
        people=random_cohort(2, mentees=10, mentors=3),
        settings=CIRCLES,
        progress=lambda percent, message: steps.append(percent),
    )

    assert steps == sorted(steps)
    assert len(steps) >= 3
    assert steps[-1] == 100


def test_it_forms_circles_for_200_mentees_and_50_mentors():
    people = random_cohort(9, mentees=200, mentors=50, terms=30)
    settings = replace(CIRCLES, circle_size=6)

    result = run(people, settings)

    check_valid(result, people, settings)
    assert len(result.circles) == 40
