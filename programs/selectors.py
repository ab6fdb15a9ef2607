from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.models import User

from .models import Cohort, Enrolment, Program


@dataclass
class HomeSummary:
    """What the home page offers a signed-in person, in a fixed number of queries."""

    coordinated_programs: list[Program] = field(default_factory=list)
    enrolments: list[Enrolment] = field(default_factory=list)
    is_admin: bool = False

    @property
    def is_new(self) -> bool:
        return not (self.coordinated_programs or self.enrolments or self.is_admin)


def program_list_coordinated_by(*, user: User) -> QuerySet[Program]:
    cohorts = Cohort.objects.annotate(
        participant_count=Count(
            "enrolments", filter=~Q(enrolments__status=Enrolment.Status.WITHDRAWN)
        )
    ).order_by("-starts_on")
    return (
        Program.objects.filter(coordinators=user)
        .prefetch_related(Prefetch("cohorts", queryset=cohorts))
        .order_by("name")
    )


def enrolment_list_for(*, user: User) -> QuerySet[Enrolment]:
    return (
        Enrolment.objects.filter(user=user)
        .select_related("cohort__program")
        .order_by("-cohort__starts_on")
    )


def home_summary_for(*, user: User) -> HomeSummary:
    return HomeSummary(
        coordinated_programs=list(program_list_coordinated_by(user=user)),
        enrolments=list(enrolment_list_for(user=user)),
        is_admin=user.is_staff,
    )
