"""Reads of matching: a cohort as the engine sees it, the settings a run uses, the pre-match
report and how many places a mentor has taken."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from matching import selectors, services
from matching.engine import Weights
from matching.models import MatchingConfig, MentorRequest, Relationship, RelationshipMember
from programs.models import Cohort, Enrolment, Program
from tests.factories import CohortFactory, ProfileFactory, RelationshipFactory, UserFactory

pytestmark = pytest.mark.django_db


def person_of(cohort: Cohort, enrolment: Enrolment):
    people, _ = selectors.cohort_people(cohort=cohort)
    return next(p for p in people if p.id == enrolment.pk)


def past_relationship(program: Program, *pairs_of_users) -> Cohort:
    """A closed earlier cohort of `program` in which each (mentor user, mentee user) were a pair."""
    old = CohortFactory(
        program=program,
        name="Last autumn",
        status=Cohort.Status.CLOSED,
        starts_on=dt.date(2025, 9, 1),
        ends_on=dt.date(2026, 3, 1),
    )
    for mentor_user, mentee_user in pairs_of_users:
        RelationshipFactory(
            cohort=old,
            mentor=mentor_user,
            mentee=mentee_user,
            status=Relationship.Status.ENDED,
            started_at=timezone.now() - dt.timedelta(days=300),
        )
    return old


# --- cohort_people ---------------------------------------------------------------------------


def test_it_loads_only_approved_people(matching_cohort, matching_people, make_mentor, make_mentee):
    make_mentee(name="Abe Applicant", status=Enrolment.Status.APPLIED)
    make_mentor(name="Wes Withdrawn", status=Enrolment.Status.WITHDRAWN)

    people, _ = selectors.cohort_people(cohort=matching_cohort)

    p = matching_people
    assert sorted(person.id for person in people) == sorted(
        e.pk for e in (p.maya, p.theo, p.mo, p.dana, p.eli)
    )
    by_id = {person.id: person for person in people}
    assert by_id[p.maya.pk].role == "mentor"
    assert by_id[p.maya.pk].capacity == 2
    assert by_id[p.mo.pk].role == "mentee"
    assert by_id[p.mo.pk].capacity == 1


def test_it_gives_competencies_by_kind_as_ids_with_their_names(matching_cohort, matching_people):
    people, names = selectors.cohort_people(cohort=matching_cohort)
    by_id = {person.id: person for person in people}
    maya, mo = by_id[matching_people.maya.pk], by_id[matching_people.mo.pk]

    def named(ids: frozenset[int]) -> set[str]:
        return {names[i] for i in ids}

    assert named(maya.expertise) == {"Public speaking", "Negotiation"}
    assert named(maya.offer) == {"Public speaking"}
    assert maya.develop == maya.seek == frozenset()
    assert named(mo.develop) == named(mo.seek) == {"Public speaking"}
    assert mo.expertise == mo.offer == frozenset()
    # The same term is the same id whoever holds it, so the engine can meet them.
    assert mo.develop <= maya.expertise


def test_it_puts_the_manager_and_the_managers_manager_in_the_reporting_chain(
    matching_cohort, matching_people
):
    ceo = UserFactory(display_name="Cleo CEO")
    director = UserFactory(display_name="Dirk Director")
    manager = UserFactory(display_name="Mia Manager")
    ProfileFactory(user=director, manager=ceo)
    ProfileFactory(user=manager, manager=director)
    mo_profile = matching_people.mo.user.profile
    mo_profile.manager = manager
    mo_profile.save()

    mo = person_of(matching_cohort, matching_people.mo)

    assert mo.reporting_chain == {manager.pk, director.pk}  # two levels up, not three
    assert person_of(matching_cohort, matching_people.dana).reporting_chain == frozenset()


def test_it_follows_the_chain_through_a_manager_who_is_in_the_cohort(
    matching_cohort, matching_people
):
    director = UserFactory(display_name="Dirk Director")
    theo_profile = matching_people.theo.user.profile
    theo_profile.manager = director
    theo_profile.save()
    mo_profile = matching_people.mo.user.profile
    mo_profile.manager = matching_people.theo.user
    mo_profile.save()

    mo = person_of(matching_cohort, matching_people.mo)

    assert mo.reporting_chain == {matching_people.theo.user_id, director.pk}


@pytest.mark.parametrize(
    ("time_zone", "starts_on", "today", "offset"),
    [
        # Asked in summer about a January cohort: the offset is January's.
        ("America/New_York", dt.date(2027, 1, 11), dt.datetime(2026, 7, 1, 9, tzinfo=dt.UTC), -5.0),
        ("America/New_York", dt.date(2027, 7, 12), dt.datetime(2027, 1, 4, 9, tzinfo=dt.UTC), -4.0),
        ("Asia/Kolkata", dt.date(2027, 1, 11), dt.datetime(2026, 7, 1, 9, tzinfo=dt.UTC), 5.5),
        ("Europe/London", dt.date(2027, 1, 11), dt.datetime(2026, 7, 1, 9, tzinfo=dt.UTC), 0.0),
    ],
)
def test_it_takes_the_utc_offset_of_the_users_time_zone_at_the_cohort_start(
    cohort, make_mentee, time_zone, starts_on, today, offset
):
    cohort.starts_on = starts_on
    cohort.ends_on = starts_on + dt.timedelta(weeks=26)
    cohort.save()
    mentee = make_mentee(name="Zed Zone", time_zone=time_zone)

    with time_machine.travel(today, tick=False):
        person = person_of(cohort, mentee)

    assert person.utc_offset_hours == offset


def test_it_lower_cases_languages(cohort, make_mentor):
    mentor = make_mentor(name="Lou Lingo", languages=["English", " Portuguese ", "DEUTSCH"])

    assert person_of(cohort, mentor).languages == {"english", "portuguese", "deutsch"}


def test_it_finds_past_partners_in_other_cohorts_only(
    program, matching_cohort, matching_people, coordinator
):
    p = matching_people
    past_relationship(program, (p.maya.user, p.mo.user))
    # Theo and Dana are already paired in this very cohort: that is not a past partnership.
    services.relationship_create(cohort=matching_cohort, mentor=p.theo, mentee=p.dana)

    people, _ = selectors.cohort_people(cohort=matching_cohort)
    by_id = {person.id: person for person in people}

    assert by_id[p.mo.pk].past_partner_user_ids == {p.maya.user_id}
    assert by_id[p.maya.pk].past_partner_user_ids == {p.mo.user_id}
    assert by_id[p.dana.pk].past_partner_user_ids == frozenset()
    assert by_id[p.theo.pk].past_partner_user_ids == frozenset()
    assert by_id[p.eli.pk].past_partner_user_ids == frozenset()


def build_cohort(size: int) -> Cohort:
    """A cohort of `size` people with everything cohort_people reads: profiles, managers two
    levels up, competencies of each kind and a partner from an earlier cohort."""
    from tests.factories import (
        CompetencyFactory,
        EnrolmentCompetencyFactory,
        EnrolmentFactory,
        ProgramFactory,
    )

    program = ProgramFactory()
    cohort = CohortFactory(program=program, status=Cohort.Status.MATCHING)
    old = CohortFactory(program=program, status=Cohort.Status.CLOSED)
    director = UserFactory()
    manager = UserFactory()
    ProfileFactory(user=manager, manager=director)
    terms = [CompetencyFactory(name=f"Term {i}") for i in range(4)]
    old_relationship = Relationship.objects.create(cohort=old, started_at=timezone.now())
    for i in range(size):
        role = Enrolment.Role.MENTOR if i % 2 else Enrolment.Role.MENTEE
        user = UserFactory()
        ProfileFactory(user=user, manager=manager, languages=["English", "French"])
        enrolment = EnrolmentFactory(cohort=cohort, user=user, role=role)
        for kind, term in zip(("develop", "seek", "offer", "expertise"), terms, strict=True):
            EnrolmentCompetencyFactory(enrolment=enrolment, competency=term, kind=kind)
        RelationshipMember.objects.create(
            relationship=old_relationship,
            enrolment=EnrolmentFactory(cohort=old, user=user, role=role),
            role=role,
        )
    return Cohort.objects.get(pk=cohort.pk)


@pytest.mark.parametrize("size", [5, 40])
def test_it_loads_a_cohort_in_a_fixed_number_of_queries(django_assert_num_queries, size):
    cohort = build_cohort(size)

    # Enrolments with users and profiles, their competencies, managers, managers' managers,
    # past partners, and the program (for its default capacity).
    with django_assert_num_queries(6):
        people, _ = selectors.cohort_people(cohort=cohort)

    assert len(people) == size
    assert all(len(p.reporting_chain) == 2 and p.past_partner_user_ids for p in people)


# --- match_settings_for ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "mode"),
    [
        (Program.Kind.ONE_TO_ONE, "one_to_one"),
        (Program.Kind.REVERSE, "reverse"),
        (Program.Kind.PEER, "peer"),
        (Program.Kind.CIRCLE, "circle"),
    ],
)
def test_it_matches_in_the_mode_of_the_program_kind(program, cohort, kind, mode):
    program.kind = kind
    program.save()

    assert selectors.match_settings_for(cohort=cohort).mode == mode


def test_it_uses_the_engine_defaults_when_the_program_has_no_settings(cohort):
    settings = selectors.match_settings_for(cohort=cohort)

    assert settings.weights == Weights()
    assert settings.rules.require_shared_language is True
    assert settings.rules.max_time_zone_gap_hours is None
    assert settings.rules.allow_past_partners is False


def test_it_uses_the_programs_weights_and_rules(program, cohort):
    program.circle_size = 4
    program.save()
    MatchingConfig.objects.create(
        program=program,
        weight_development=5.0,
        weight_text=1.5,
        weight_department=0.0,
        require_shared_language=False,
        max_time_zone_gap_hours=3,
        allow_past_partners=True,
        max_peer_level_gap=1,
    )

    settings = selectors.match_settings_for(cohort=cohort, objective="coverage")

    assert settings.objective == "coverage"
    assert settings.weights.development == 5.0
    assert settings.weights.text == 1.5
    assert settings.weights.department == 0.0
    assert settings.weights.skills == Weights().skills
    assert settings.rules.require_shared_language is False
    assert settings.rules.max_time_zone_gap_hours == 3
    assert settings.rules.allow_past_partners is True
    assert settings.rules.max_peer_level_gap == 1
    assert settings.circle_size == 4


def test_it_includes_the_cohorts_exclusions(
    matching_cohort, matching_people, coordinator, make_mentee
):
    p = matching_people
    services.match_exclusion_add(
        cohort=matching_cohort, first=p.mo, second=p.maya, reason="Siblings", created_by=coordinator
    )
    elsewhere = CohortFactory(program=matching_cohort.program)
    a = make_mentee(cohort=elsewhere)
    b = make_mentee(cohort=elsewhere)
    services.match_exclusion_add(
        cohort=elsewhere, first=a, second=b, reason="", created_by=coordinator
    )

    excluded = selectors.match_settings_for(cohort=matching_cohort).rules.excluded_pairs

    assert len(excluded) == 1
    assert {(p.mo.pk, p.maya.pk), (p.maya.pk, p.mo.pk)} & excluded


def test_it_relaxes_the_language_and_time_zone_rules_and_allows_past_partners(program, cohort):
    MatchingConfig.objects.create(
        program=program, require_shared_language=True, max_time_zone_gap_hours=3
    )

    strict = selectors.match_settings_for(cohort=cohort).rules
    relaxed = selectors.match_settings_for(
        cohort=cohort,
        relax=selectors.Relaxation(language=True, time_zone=True, past_partners=True),
    ).rules
    language_only = selectors.match_settings_for(
        cohort=cohort, relax=selectors.Relaxation(language=True)
    ).rules

    assert (
        strict.require_shared_language,
        strict.max_time_zone_gap_hours,
        strict.allow_past_partners,
    ) == (True, 3, False)
    assert (
        relaxed.require_shared_language,
        relaxed.max_time_zone_gap_hours,
        relaxed.allow_past_partners,
    ) == (False, None, True)
    assert (
        language_only.require_shared_language,
        language_only.max_time_zone_gap_hours,
        language_only.allow_past_partners,
    ) == (False, 3, False)


# --- prematch_report -------------------------------------------------------------------------


def test_it_reports_a_mentee_nobody_shares_a_language_with(matching_cohort, make_mentee):
    paula = make_mentee(name="Paula Portuguese", languages=["Portuguese"], develop=["Negotiation"])

    report, enrolments = selectors.prematch_report(cohort=matching_cohort)

    assert [(u.person_id, u.reason_code) for u in report.blocked] == [(paula.pk, "language")]
    assert report.relaxations == {"language": [paula.pk]}
    assert enrolments[paula.pk].user.display_name == "Paula Portuguese"

    relaxed, _ = selectors.prematch_report(
        cohort=matching_cohort, relax=selectors.Relaxation(language=True)
    )
    assert relaxed.blocked == []


def test_it_reports_everyone_when_the_cohort_has_no_mentors(cohort, make_mentee):
    mentees = [make_mentee(), make_mentee(), make_mentee()]

    report, enrolments = selectors.prematch_report(cohort=cohort)

    assert sorted((u.person_id, u.reason_code) for u in report.blocked) == sorted(
        (m.pk, "no_mentors") for m in mentees
    )
    assert set(enrolments) == {m.pk for m in mentees}


# --- mentor_load -----------------------------------------------------------------------------


def test_it_counts_active_relationships_and_requests_waiting_for_an_answer(
    matching_cohort, matching_people, make_mentee, coordinator
):
    p = matching_people
    services.relationship_create(cohort=matching_cohort, mentor=p.maya, mentee=p.mo)
    ended = services.relationship_create(cohort=matching_cohort, mentor=p.maya, mentee=p.eli)
    services.relationship_end_early(relationship=ended, reason="Moved away", ended_by=coordinator)
    for status in MentorRequest.Status:
        if status == MentorRequest.Status.ACCEPTED:
            continue
        MentorRequest.objects.create(
            cohort=matching_cohort, mentee=make_mentee(), mentor=p.maya, status=status
        )

    load = selectors.mentor_load(cohort=matching_cohort)

    # One active mentee, one pending and one question; not the ended relationship nor the
    # queued, declined, expired or withdrawn requests.
    assert load[p.maya.pk] == 3
    assert load.get(p.theo.pk, 0) == 0
