"""A cohort ready to match, and factories for the people in it.

`matching_cohort` is the `cohort` persona switched to "matching", with the `mentor` and `mentee`
personas and three more people, all approved, with profiles and competencies so every pair the
engine proposes has something to explain:

    Maya Mentor (persona, 2 places)  expert in Public speaking, Negotiation; offers Public speaking
    Theo Mentor (1 place)            expert in Data analysis; offers Data analysis
    Mo Mentee (persona)              develops and seeks Public speaking
    Dana Mentee                      develops and seeks Data analysis
    Eli Mentee                       develops Negotiation

The best whole-cohort assignment is Maya with Mo and Eli, and Theo with Dana: every place filled.
`matching_people` gives their enrolments by first name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pytest

from accounts.models import User
from programs.models import Cohort, Enrolment, EnrolmentCompetency
from tests.factories import (
    CompetencyFactory,
    EnrolmentCompetencyFactory,
    EnrolmentFactory,
    ProfileFactory,
    UserFactory,
)

MakePerson = Callable[..., Enrolment]


def equip(
    enrolment: Enrolment,
    *,
    department: str = "Engineering",
    job_level: int | None = 3,
    languages: Iterable[str] = ("English",),
    manager: User | None = None,
    develop: Iterable[str] = (),
    seek: Iterable[str] = (),
    offer: Iterable[str] = (),
    expertise: Iterable[str] = (),
) -> Enrolment:
    """Give an enrolment's person a profile and the enrolment its competencies (by name)."""
    profile = ProfileFactory(user=enrolment.user)
    profile.department = department
    profile.job_level = job_level
    profile.languages = list(languages)
    profile.manager = manager
    profile.save()
    for kind, names in (
        (EnrolmentCompetency.Kind.DEVELOP, develop),
        (EnrolmentCompetency.Kind.SEEK, seek),
        (EnrolmentCompetency.Kind.OFFER, offer),
        (EnrolmentCompetency.Kind.EXPERTISE, expertise),
    ):
        for name in names:
            EnrolmentCompetencyFactory(
                enrolment=enrolment, competency=CompetencyFactory(name=name), kind=kind
            )
    return enrolment


@pytest.fixture
def make_person(cohort: Cohort) -> MakePerson:
    """Enrol a new person, approved, with a profile: `make_person(role="peer", name="Pia")`.

    Keywords: cohort (default the `cohort` persona's), name, email, time_zone, status, capacity,
    prefers_other_department, prefers_same_time_zone, and everything `equip` takes."""

    def make(
        *,
        role: str,
        name: str | None = None,
        email: str | None = None,
        cohort: Cohort = cohort,
        time_zone: str = "Europe/London",
        status: str = Enrolment.Status.APPROVED,
        capacity: int | None = None,
        **fields: Any,
    ) -> Enrolment:
        enrolment_fields = {
            key: fields.pop(key)
            for key in ("prefers_other_department", "prefers_same_time_zone")
            if key in fields
        }
        user_fields: dict[str, object] = {"time_zone": time_zone}
        if name:
            user_fields["display_name"] = name
            user_fields["email"] = email or f"{name.lower().replace(' ', '.')}@example.org"
        elif email:
            user_fields["email"] = email
        enrolment = EnrolmentFactory(
            cohort=cohort,
            user=UserFactory(**user_fields),
            role=role,
            status=status,
            capacity=capacity if role != Enrolment.Role.MENTEE else None,
            **enrolment_fields,
        )
        return equip(enrolment, **fields)

    return make


@pytest.fixture
def make_mentor(make_person: MakePerson) -> MakePerson:
    """An approved mentor with one place unless `capacity=` says otherwise."""

    def make(**fields: object) -> Enrolment:
        fields.setdefault("capacity", 1)
        fields.setdefault("job_level", 5)
        return make_person(role=Enrolment.Role.MENTOR, **fields)

    return make


@pytest.fixture
def make_mentee(make_person: MakePerson) -> MakePerson:
    """An approved mentee (entry-ish level, so any mentor is more senior)."""

    def make(**fields: object) -> Enrolment:
        fields.setdefault("job_level", 2)
        return make_person(role=Enrolment.Role.MENTEE, **fields)

    return make


@dataclass
class MatchingPeople:
    maya: Enrolment  # the `mentor` persona
    theo: Enrolment
    mo: Enrolment  # the `mentee` persona
    dana: Enrolment
    eli: Enrolment


@pytest.fixture
def matching_people(
    cohort: Cohort, mentor: User, mentee: User, make_mentor: MakePerson, make_mentee: MakePerson
) -> MatchingPeople:
    """The five approved people of `matching_cohort` (see the module docstring)."""
    maya = Enrolment.objects.get(cohort=cohort, user=mentor)
    maya.capacity = 2
    maya.save(update_fields=["capacity"])
    mo = Enrolment.objects.get(cohort=cohort, user=mentee)
    return MatchingPeople(
        maya=equip(
            maya,
            department="Engineering",
            job_level=5,
            expertise=["Public speaking", "Negotiation"],
            offer=["Public speaking"],
        ),
        theo=make_mentor(
            name="Theo Mentor",
            department="Finance",
            job_level=5,
            expertise=["Data analysis"],
            offer=["Data analysis"],
        ),
        mo=equip(
            mo,
            department="Sales",
            job_level=2,
            develop=["Public speaking"],
            seek=["Public speaking"],
        ),
        dana=make_mentee(
            name="Dana Mentee",
            department="Product",
            job_level=3,
            develop=["Data analysis"],
            seek=["Data analysis"],
        ),
        eli=make_mentee(name="Eli Mentee", department="Sales", develop=["Negotiation"]),
    )


@pytest.fixture
def matching_cohort(cohort: Cohort, matching_people: MatchingPeople) -> Cohort:
    """The `cohort` persona in status "matching", with `matching_people` approved in it."""
    cohort.status = Cohort.Status.MATCHING
    cohort.save(update_fields=["status"])
    return cohort
