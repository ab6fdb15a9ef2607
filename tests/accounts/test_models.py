"""The accounts tables refuse what would confuse sign-in or matching."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Profile, User, validate_time_zone
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_it_treats_emails_differing_only_in_case_as_the_same_person():
    first = User.objects.create_user("A@x.org", password="irrelevant", display_name="A")

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("a@x.org", password="irrelevant", display_name="Another A")

    assert first.email == "a@x.org"
    assert User.objects.filter(email__iexact="a@x.org").count() == 1


def test_it_refuses_a_time_zone_that_does_not_exist():
    with pytest.raises(ValidationError, match="Mars/Base"):
        validate_time_zone("Mars/Base")

    validate_time_zone("Europe/London")  # a real zone passes


def test_it_refuses_a_profile_that_is_its_own_manager():
    user = UserFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Profile.objects.create(user=user, manager=user)

    assert not Profile.objects.filter(user=user).exists()
