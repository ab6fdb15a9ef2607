"""factory-boy factories that keep the object graph consistent."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import Profile, User
from programs.models import Cohort, Competency, Enrolment, EnrolmentCompetency, Program

TEST_PASSWORD = "correct-horse-battery-staple"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    display_name = factory.Faker("name")
    time_zone = "Europe/London"
    password = factory.django.Password(TEST_PASSWORD)

    @factory.post_generation
    def verified_email(user: User, create: bool, extracted: bool | None, **kwargs) -> None:
        """allauth's record of the address, verified unless `verified_email=False`."""
        if not create:
            return
        from allauth.account.models import EmailAddress

        EmailAddress.objects.get_or_create(
            user=user,
            email=user.email,
            defaults={"verified": extracted is not False, "primary": True},
        )


class ProfileFactory(DjangoModelFactory):
    class Meta:
        model = Profile
        django_get_or_create = ("user",)

    user = factory.SubFactory(UserFactory)
    department = factory.Iterator(["Engineering", "Sales", "Finance", "Product"])
    job_level = 3
    languages = factory.LazyFunction(lambda: ["English"])


class CompetencyFactory(DjangoModelFactory):
    class Meta:
        model = Competency
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Competency {n}")


class ProgramFactory(DjangoModelFactory):
    class Meta:
        model = Program
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Program {n}")
    kind = Program.Kind.ONE_TO_ONE

    @factory.post_generation
    def coordinators(
        program: Program, create: bool, extracted: list[User] | None, **kwargs
    ) -> None:
        if create and extracted:
            program.coordinators.add(*extracted)


class CohortFactory(DjangoModelFactory):
    class Meta:
        model = Cohort

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Cohort {n}")
    status = Cohort.Status.ENROLLING
    starts_on = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=14))
    ends_on = factory.LazyAttribute(lambda cohort: cohort.starts_on + dt.timedelta(weeks=26))


class EnrolmentFactory(DjangoModelFactory):
    class Meta:
        model = Enrolment

    cohort = factory.SubFactory(CohortFactory)
    user = factory.SubFactory(UserFactory)
    role = Enrolment.Role.MENTEE
    status = Enrolment.Status.APPROVED
    capacity = factory.LazyAttribute(
        lambda enrolment: 2 if enrolment.role != Enrolment.Role.MENTEE else None
    )


class EnrolmentCompetencyFactory(DjangoModelFactory):
    class Meta:
        model = EnrolmentCompetency

    enrolment = factory.SubFactory(EnrolmentFactory)
    competency = factory.SubFactory(CompetencyFactory)
    kind = EnrolmentCompetency.Kind.DEVELOP
