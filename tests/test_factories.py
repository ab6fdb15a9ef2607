"""Every factory builds a consistent object graph on its own."""

from __future__ import annotations

import pytest
from factory.django import DjangoModelFactory

from matching.models import Relationship
from tests import factories

pytestmark = pytest.mark.django_db

ALL = sorted(
    (
        value
        for value in vars(factories).values()
        if isinstance(value, type)
        and issubclass(value, DjangoModelFactory)
        and value is not DjangoModelFactory
    ),
    key=lambda factory: factory.__name__,
)


@pytest.mark.parametrize("factory", ALL, ids=lambda factory: factory.__name__)
def test_it_builds_a_valid_object_with_no_arguments(factory):
    made = factory()

    made.full_clean(validate_unique=False)
    assert type(made)._default_manager.filter(pk=made.pk).exists()


def test_it_covers_every_model_of_our_apps():
    from django.apps import apps

    ours = {
        model
        for label in (
            *("accounts", "core", "programs", "matching", "goals", "notifications"),
            "reports",
        )
        for model in apps.get_app_config(label).get_models()
    }

    assert ours <= {factory._meta.model for factory in ALL}


def test_it_keeps_a_relationships_members_in_its_cohort():
    relationship = factories.RelationshipFactory()
    check_in = factories.CheckInFactory(relationship=relationship)
    goal = factories.CheckInGoalProgressFactory(check_in=check_in).goal

    members = relationship.members.select_related("enrolment")
    assert sorted(m.role for m in members) == ["mentee", "mentor"]
    assert {m.enrolment.cohort_id for m in members} == {relationship.cohort_id}
    assert goal.relationship == relationship
    assert check_in.logged_by.relationship == relationship


def test_it_takes_the_people_of_a_pair_as_users_or_enrolments(cohort, mentor, mentee):
    mo = cohort.enrolments.get(user=mentee)

    relationship = factories.RelationshipFactory(cohort=cohort, mentor=mentor, mentee=mo)

    assert relationship.members.get(role="mentor").enrolment.user == mentor
    assert relationship.members.get(role="mentee").enrolment == mo
    assert cohort.enrolments.count() == 2


def test_it_ends_a_relationship_with_the_ended_trait():
    relationship = factories.RelationshipFactory(ended=True)

    assert relationship.status == Relationship.Status.ENDED
    assert relationship.ended_at is not None
