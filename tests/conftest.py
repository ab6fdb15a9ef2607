"""Personas and shared fixtures. Each persona says what it may see."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from django.test import Client
from hypothesis import settings

from accounts.models import User
from tests.factories import CohortFactory, EnrolmentFactory, ProgramFactory, UserFactory

# Property-based tests: few enough examples that they take seconds in all, no deadline (the first
# call of an engine warms numpy/scipy up), and no example database written into the checkout.
# HYPOTHESIS_PROFILE=thorough searches much harder, for a run by hand after changing the engine
# or the importer.
settings.register_profile("mentorship", max_examples=40, deadline=None, database=None)
settings.register_profile("thorough", max_examples=2000, deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "mentorship"))

# Playwright's sync API runs an event loop in the test thread; Django would refuse ORM calls from
# it (SynchronousOnlyOperation) although they are in fact synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_service(available: bool, reason: str) -> None:
    """Skip a test that needs a service on a developer's machine; under CI the service is a
    promise of the pipeline, so its absence fails the test instead of hiding it."""
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    require_service(os.path.exists(CHROMIUM), f"{CHROMIUM} is missing (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS}


@pytest.fixture
def admin_user(db):
    """Staff and superuser: everything, through the Django admin too."""
    return UserFactory(
        email="ada.admin@example.org", display_name="Ada Admin", is_staff=True, is_superuser=True
    )


@pytest.fixture
def coordinator(db):
    """Coordinates `program` only: sees its cohorts and everyone enrolled in them."""
    return UserFactory(email="corinne.coordinator@example.org", display_name="Corinne Coordinator")


@pytest.fixture
def other_coordinator(db):
    """Coordinates `other_program`: must never see or change anything of `program`."""
    return UserFactory(email="kwame.coordinator@example.org", display_name="Kwame Coordinator")


@pytest.fixture
def program_creator(db):
    """In the Program coordinators group: may create programs, but coordinates none of them, so
    sees no program's cohorts, people or reports."""
    from programs.services import coordinators_group_ensure

    user = UserFactory(email="pat.creator@example.org", display_name="Pat Creator")
    coordinators_group_ensure().user_set.add(user)
    return user


@pytest.fixture
def program(coordinator):
    return ProgramFactory(name="Leadership Mentoring", coordinators=[coordinator])


@pytest.fixture
def other_program(other_coordinator):
    return ProgramFactory(name="Sales Mentoring", coordinators=[other_coordinator])


@pytest.fixture
def cohort(program):
    return CohortFactory(program=program, name="Spring")


@pytest.fixture
def mentor(cohort):
    """A mentor in `cohort`: sees their own enrolment and, later, their own relationships."""
    user = UserFactory(email="maya.mentor@example.org", display_name="Maya Mentor")
    EnrolmentFactory(cohort=cohort, user=user, role="mentor", capacity=2)
    return user


@pytest.fixture
def mentee(cohort):
    """A mentee in `cohort`: sees only their own enrolment and relationship."""
    user = UserFactory(email="mo.mentee@example.org", display_name="Mo Mentee")
    EnrolmentFactory(cohort=cohort, user=user, role="mentee")
    return user


@pytest.fixture
def outsider(db):
    """Signed in, but in no program: sees nothing of anyone else's."""
    return UserFactory(email="olga.outsider@example.org", display_name="Olga Outsider")


@pytest.fixture
def sign_in(client: Client, request: pytest.FixtureRequest) -> Callable[[str], User | None]:
    """Sign the test's `client` in as a persona, named as its fixture ("coordinator", "mentee",
    ...); "anonymous" stays signed out. Returns the user, so a test can look them up."""

    def sign_in_as(persona: str) -> User | None:
        if persona == "anonymous":
            return None
        user: User = request.getfixturevalue(persona)
        client.force_login(user)
        return user

    return sign_in_as


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("CELERY_BROKER_URL", "")
    require_service(url.startswith("redis"), "CELERY_BROKER_URL does not point at Redis")
    return url
