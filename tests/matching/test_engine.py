"""The one-to-one and reverse engine: optimal for the whole cohort, never breaking a rule, and
telling the coordinator why anyone is left out. Pure: no database."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace

import numpy as np
import pytest

from matching.engine import MatchSettings, Person, Rules, Weights, api, match, scoring, solve
from matching.engine.explain import pair_explanation


def mentor(id: int, **fields) -> Person:
    fields.setdefault("languages", frozenset({"english"}))
    return Person(id=id, user_id=id, role="mentor", **fields)


def mentee(id: int, **fields) -> Person:
    fields.setdefault("languages", frozenset({"english"}))
    return Person(id=id, user_id=id, role="mentee", **fields)


def random_cohort(seed: int, mentees: int, mentors: int, terms: int = 8) -> list[Person]:
    rng = random.Random(seed)

    def pick(k: int) -> frozenset[int]:
        return frozenset(rng.sample(range(terms), k))

    people = [
        mentor(
            100 + j,
            capacity=rng.randint(0, 2),
            expertise=pick(3),
            offer=pick(2),
            level=rng.randint(3, 8),
            department=rng.choice("AB"),
            utc_offset_hours=rng.choice([0, 1, 5.5]),
            languages=frozenset(rng.sample(["english", "german"], rng.randint(1, 2))),
        )
        for j in range(mentors)
    ]
    people += [
        mentee(
            1000 + i,
            develop=pick(2),
            seek=pick(1),
            level=rng.randint(1, 6),
            department=rng.choice("AB"),
            prefers_other_department=rng.random() < 0.5,
            utc_offset_hours=rng.choice([0, 1, 5.5]),
            languages=frozenset(rng.sample(["english", "german"], 1)),
            reporting_chain=frozenset({100 + rng.randrange(mentors)})
            if rng.random() < 0.3
            else frozenset(),
        )
        for i in range(mentees)
    ]
    return people


def brute_force(scores: np.ndarray, capacities: np.ndarray, objective: str) -> tuple[int, float]:
    """(matched, total) of the best assignment, by trying every one."""
    n, m = scores.shape
    best = (-1, -1.0)
    for choice in itertools.product(range(-1, m), repeat=n):
        used = np.bincount([c for c in choice if c >= 0], minlength=m)
        if (used > capacities).any():
            continue
        if any(c >= 0 and scores[i, c] < 0 for i, c in enumerate(choice)):
            continue
        total = sum(float(scores[i, c]) for i, c in enumerate(choice) if c >= 0)
        matched = sum(c >= 0 for c in choice)
        key = (matched, total) if objective == "coverage" else (0, total)
        if key > best:
            best = key
    return best


@pytest.mark.parametrize("objective", ["score", "coverage"])
@pytest.mark.parametrize("seed", range(25))
def test_it_finds_the_best_assignment_for_the_whole_cohort(seed, objective):
    people = random_cohort(seed, mentees=5, mentors=3)
    settings = MatchSettings(objective=objective)
    mentees = [p for p in people if p.role == "mentee"]
    mentors = [p for p in people if p.role == "mentor"]
    scores, _, _ = api.scored_matrix(mentees, mentors, settings)
    capacities = np.array([p.capacity for p in mentors])

    result = match(people=people, settings=settings)

    best_matched, best_total = brute_force(scores, capacities, objective)
    assert result.objective_value == pytest.approx(best_total, abs=1e-4)
    if objective == "coverage":
        assert len(result.pairs) == best_matched


def test_it_prefers_more_people_matched_when_asked_for_coverage():
    # Mentor 1 fits mentee 10 best, but only mentor 1 can take mentee 11 (language): the best
    # total leaves 11 out; "as many matched as possible" gives 10 to mentor 2 instead.
    only_development = Weights(skills=0, department=0, level=0, time_zone=0, language=0)
    people = [
        mentor(1, capacity=1, expertise=frozenset({1, 2})),
        mentor(2, capacity=1, expertise=frozenset({1}), languages=frozenset({"german"})),
        mentee(10, develop=frozenset({1, 2}), languages=frozenset({"english", "german"})),
        mentee(11, develop=frozenset({3})),
    ]
    by_score = match(
        people=people, settings=MatchSettings(objective="score", weights=only_development)
    )
    by_coverage = match(
        people=people, settings=MatchSettings(objective="coverage", weights=only_development)
    )

    assert {(p.mentor_id, p.mentee_id) for p in by_score.pairs} == {(1, 10)}
    assert {(p.mentor_id, p.mentee_id) for p in by_coverage.pairs} == {(1, 11), (2, 10)}


@pytest.mark.parametrize("seed", range(5))
def test_it_never_breaks_a_capacity_or_a_hard_rule(seed):
    people = random_cohort(seed, mentees=120, mentors=30, terms=15)
    rules = Rules(max_time_zone_gap_hours=2, excluded_pairs=frozenset({(100, 1), (101, 2)}))
    settings = MatchSettings(rules=rules)
    by_id = {p.id: p for p in people}

    result = match(people=people, settings=settings)

    load: dict[int, int] = {}
    for pair in result.pairs:
        load[pair.mentor_id] = load.get(pair.mentor_id, 0) + 1
        assert (
            scoring.pair_rule_broken(by_id[pair.mentee_id], by_id[pair.mentor_id], settings) is None
        )
    assert all(load[m] <= by_id[m].capacity for m in load)
    assert len({p.mentee_id for p in result.pairs}) == len(result.pairs)
    # Every mentee is either matched or told why not, never both.
    mentee_ids = {p.id for p in people if p.role == "mentee"}
    matched = {p.mentee_id for p in result.pairs}
    reported = {u.person_id for u in result.unmatched} & mentee_ids
    assert matched | reported == mentee_ids
    assert not matched & reported


def test_it_gives_the_same_answer_every_time():
    people = random_cohort(3, mentees=200, mentors=40, terms=20)

    first = match(people=people, settings=MatchSettings())
    second = match(people=list(reversed(people)), settings=MatchSettings())

    assert first.pairs == second.pairs
    assert first.unmatched == second.unmatched
    assert first.alternatives == second.alternatives


@pytest.mark.parametrize("mode", ["one_to_one", "reverse"])
def test_it_scores_a_pair_the_same_whole_cohort_or_one_at_a_time(mode):
    people = random_cohort(7, mentees=40, mentors=15, terms=10)
    settings = MatchSettings(mode=mode, weights=Weights(text=0.0))
    mentees = [p for p in people if p.role == "mentee"]
    mentors = [p for p in people if p.role == "mentor"]

    matrix = scoring.score_matrix(mentees, mentors, settings)

    for i, a in enumerate(mentees):
        for j, b in enumerate(mentors):
            parts, _ = scoring.pair_components(a, b, settings)
            assert matrix[i, j] == pytest.approx(
                scoring.pair_score(parts, settings.weights), abs=1e-5
            )


def test_it_keeps_people_out_of_their_own_reporting_chain():
    people = [
        mentor(1, capacity=1, expertise=frozenset({1})),
        mentor(2, capacity=1, expertise=frozenset({9})),
        mentee(10, develop=frozenset({1}), reporting_chain=frozenset({1})),
    ]

    result = match(people=people, settings=MatchSettings())

    assert [(p.mentor_id, p.mentee_id) for p in result.pairs] == [(2, 10)]


def test_it_says_why_people_are_left_out():
    people = [
        mentor(1, capacity=1, expertise=frozenset({1})),
        mentee(10, develop=frozenset({1})),
        mentee(11, develop=frozenset({1})),  # mentor 1 is taken: capacity
        mentee(12, languages=frozenset({"portuguese"})),  # nobody speaks Portuguese
        mentee(13, reporting_chain=frozenset({1})),  # the only mentor is their manager
    ]

    result = match(people=people, settings=MatchSettings())

    reasons = {u.person_id: (u.reason_code, u.reason) for u in result.unmatched}
    assert reasons[12] == ("language", "no mentor speaks their language")
    assert reasons[13][0] == "reporting_chain"
    left_out = ({10, 11} - {p.mentee_id for p in result.pairs}).pop()
    assert reasons[left_out] == (
        "capacity",
        "demand is above capacity: the 1 mentor who could take them is full",
    )


@pytest.mark.parametrize(
    ("people", "code"),
    [
        ([mentee(10)], "no_mentors"),
        ([mentor(1, capacity=0), mentee(10)], "no_capacity"),
    ],
)
def test_it_explains_an_empty_result_instead_of_crashing(people, code):
    result = match(people=people, settings=MatchSettings())

    assert result.pairs == []
    assert [u.reason_code for u in result.unmatched if u.person_id == 10] == [code]


def test_it_matches_empty_profiles_and_a_vocabulary_with_no_overlap():
    people = [
        mentor(1, capacity=2, expertise=frozenset({1})),
        mentee(10),
        mentee(11, develop=frozenset({7})),
    ]

    result = match(people=people, settings=MatchSettings())

    assert len(result.pairs) == 2
    assert all(0 <= p.score <= 1 for p in result.pairs)


def test_it_lets_only_a_more_junior_mentor_lead_in_reverse_mentoring():
    people = [
        mentor(1, capacity=1, level=2, expertise=frozenset({1})),
        mentor(2, capacity=1, level=7, expertise=frozenset({1})),
        mentee(10, level=6, develop=frozenset({1})),
        mentee(11, level=1, develop=frozenset({1})),
    ]

    result = match(people=people, settings=MatchSettings(mode="reverse"))

    assert [(p.mentor_id, p.mentee_id) for p in result.pairs] == [(1, 10)]
    assert {u.person_id: u.reason_code for u in result.unmatched}[11] == "level_direction"


def test_it_keeps_locked_pairs_and_rematches_the_rest():
    people = random_cohort(11, mentees=20, mentors=6, terms=10)
    people = [replace(p, capacity=3) if p.role == "mentor" else p for p in people]
    free = match(people=people, settings=MatchSettings())
    keep = free.pairs[0]
    other_mentor = next(p.id for p in people if p.role == "mentor" and p.id != keep.mentor_id)
    lock = (other_mentor, keep.mentee_id)

    locked = match(people=people, settings=MatchSettings(locked_pairs=(lock,)))

    assert lock in {(p.mentor_id, p.mentee_id) for p in locked.pairs}
    assert next(p for p in locked.pairs if p.mentee_id == keep.mentee_id).locked


def test_it_offers_the_next_best_three_mentors_with_their_capacity():
    people = [mentor(i, capacity=1, expertise=frozenset(range(i))) for i in range(1, 6)]
    people.append(mentee(10, develop=frozenset({0, 1, 2, 3, 4})))

    result = match(people=people, settings=MatchSettings())

    assert [(p.mentor_id, p.mentee_id) for p in result.pairs] == [(5, 10)]
    alternatives = result.alternatives[10]
    assert [a.mentor_id for a in alternatives] == [4, 3, 2]
    assert all(a.has_capacity for a in alternatives)
    assert alternatives[0].score >= alternatives[1].score >= alternatives[2].score


def test_it_explains_a_pair_in_words():
    people = [
        mentor(
            1,
            capacity=1,
            expertise=frozenset({1, 2}),
            offer=frozenset({3}),
            level=6,
            department="Sales",
            utc_offset_hours=0,
        ),
        mentee(
            10,
            develop=frozenset({1, 2}),
            seek=frozenset({3}),
            level=4,
            department="Data",
            prefers_other_department=True,
            utc_offset_hours=0,
        ),
    ]
    result = match(people=people, settings=MatchSettings())
    names = {1: "Public speaking", 2: "Strategic thinking", 3: "Negotiation"}

    text = pair_explanation(
        result.pairs[0], people[1], people[0], names=names, settings=MatchSettings()
    )

    assert text == (
        "Mentor has expertise in what the mentee wants to develop: public speaking, strategic "
        "thinking; mentor offers negotiation; another department, as the mentee asked; mentor "
        "is two levels more senior; same time zone."
    )


def test_greedy_is_never_better_than_the_optimiser():
    people = random_cohort(5, mentees=150, mentors=40, terms=12)
    mentees = [p for p in people if p.role == "mentee"]
    mentors = [p for p in people if p.role == "mentor"]
    scores, _, _ = api.scored_matrix(mentees, mentors, MatchSettings())
    capacities = np.array([p.capacity for p in mentors])

    optimal = solve.total_score(scores, solve.assign(scores, capacities))
    greedy = solve.total_score(scores, solve.assign_greedy(scores, capacities))

    assert optimal >= greedy - 1e-9


def test_it_explains_a_peer_pair_both_ways_round():
    a = Person(id=1, user_id=1, role="peer", develop=frozenset({1}), offer=frozenset({2}), level=4)
    # A wants coaching, which B is expert in; B seeks budgeting, which A offers.
    b = Person(id=2, user_id=2, role="peer", seek=frozenset({2}), expertise=frozenset({1}), level=4)
    settings = MatchSettings(mode="peer")
    result = match(people=[a, b], settings=settings)

    text = pair_explanation(
        result.pairs[0], a, b, names={1: "Coaching", 2: "Budgeting"}, settings=settings
    )

    assert text.startswith("Each can help the other with: budgeting, coaching; same level")
    assert "mentor" not in text.lower()
