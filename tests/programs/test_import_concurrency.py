"""Imports at the same moment, on PostgreSQL: two files bringing in the same new people (two
programs sharing them, or two files for one cohort) both import, each person gets one account
and one profile, and nobody sees a 500. Skipped without PostgreSQL on a laptop, failed under
CI."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from django.db.models.functions import Lower

from accounts.models import Profile, User
from programs import services
from programs.models import Cohort, Enrolment, ParticipantImport
from tests.concurrency import require_postgresql, run_at_once
from tests.factories import CohortFactory, ProgramFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

SHARED = [f"shared{n:03}@example.org" for n in range(150)]


def people_file(emails: list[str], department: str) -> bytes:
    lines = ["Email,Role,Name,Department,Skills offered,Wants to develop"]
    for n, email in enumerate(emails):
        role, offer, develop = ("mentor", "Coaching", "") if n % 3 == 0 else ("mentee", "", "Sales")
        lines.append(f"{email},{role},{email.split('@')[0].title()},{department},{offer},{develop}")
    return "\n".join(lines).encode()


def uploaded(cohort: Cohort, coordinator: User, content: bytes) -> ParticipantImport:
    return services.participant_import_create(
        cohort=cohort, uploaded_by=coordinator, filename="people.csv", content=content
    )


@pytest.fixture
def coordinator(coordinator) -> User:
    require_postgresql()
    return coordinator


def run_both(first: ParticipantImport, second: ParticipantImport) -> list[Any]:
    outcomes = run_at_once(
        [partial(services.participant_import_run, participant_import=i) for i in (first, second)]
    )
    assert [type(o).__name__ for o in outcomes] == ["ImportResult", "ImportResult"], outcomes
    return outcomes


def test_two_programs_importing_the_same_new_people_at_once_both_succeed(coordinator):
    """The issue's case. The files list the shared people in opposite orders, with some people
    of their own, and one colleague who has an account but no profile yet."""
    colleague = UserFactory(email="colleague@example.org")
    Profile.objects.filter(user=colleague).delete()
    sales, finance = (
        CohortFactory(program=ProgramFactory(name=name, coordinators=[coordinator]))
        for name in ("Sales Mentoring", "Finance Mentoring")
    )
    own_a = [f"sales{n}@example.org" for n in range(20)]
    own_b = [f"finance{n}@example.org" for n in range(20)]
    first = uploaded(sales, coordinator, people_file([*SHARED, *own_a, colleague.email], "Sales"))
    second = uploaded(
        finance, coordinator, people_file([colleague.email, *own_b, *reversed(SHARED)], "Finance")
    )

    results = run_both(first, second)

    everyone = {*SHARED, *own_a, *own_b, colleague.email}
    emails = list(User.objects.annotate(e=Lower("email")).values_list("e", flat=True))
    assert sorted(emails) == sorted({*everyone, coordinator.email})  # one account each
    assert sum(r.created_people for r in results) == len(everyone) - 1
    assert Profile.objects.filter(user__email__in=everyone).count() == len(everyone)
    # Each blank was filled once, by whichever import came first.
    assert Profile.objects.get(user=colleague).department in ("Sales", "Finance")
    for cohort, own in ((sales, own_a), (finance, own_b)):
        enrolled = set(cohort.enrolments.values_list("user__email", flat=True))
        assert enrolled == {*SHARED, *own, colleague.email}
    assert set(ParticipantImport.objects.values_list("status", flat=True)) == {"imported"}


def test_two_files_for_one_cohort_at_once_import_one_after_the_other(coordinator, cohort):
    first = uploaded(cohort, coordinator, people_file(SHARED, "Sales"))
    second = uploaded(cohort, coordinator, people_file(list(reversed(SHARED)), "Finance"))

    results = run_both(first, second)

    assert sorted(r.enrolled for r in results) == [0, len(SHARED)]
    assert sorted(r.updated for r in results) == [0, len(SHARED)]
    assert Enrolment.objects.filter(cohort=cohort, user__email__in=SHARED).count() == len(SHARED)
    assert User.objects.filter(email__in=SHARED).count() == len(SHARED)
