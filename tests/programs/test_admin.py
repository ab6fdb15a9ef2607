"""The Django admin: every programs model is searchable and filterable, and its actions obey
the same rules as the coordinator pages."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from programs.models import Cohort, Competency, Enrolment, EnrolmentCompetency, Invitation
from tests.factories import (
    CohortFactory,
    CompetencyFactory,
    EnrolmentCompetencyFactory,
    EnrolmentFactory,
)

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "admin:programs_program_changelist",
    "admin:programs_cohort_changelist",
    "admin:programs_enrolment_changelist",
    "admin:programs_competency_changelist",
    "admin:programs_invitation_changelist",
    "admin:programs_participantimport_changelist",
    "admin:programs_bulkjob_changelist",
    "admin:accounts_user_changelist",
    "admin:accounts_profile_changelist",
]


@pytest.mark.parametrize("name", CHANGELISTS)
def test_it_lists_searches_and_filters_every_model(client, admin_user, cohort, mentee, name):
    client.force_login(admin_user)

    assert client.get(reverse(name)).status_code == 200
    assert client.get(reverse(name), {"q": "mo"}).status_code == 200


def test_it_keeps_the_enrolment_changelist_query_count_flat(client, admin_user, cohort):
    client.force_login(admin_user)
    EnrolmentFactory.create_batch(5, cohort=cohort)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("admin:programs_enrolment_changelist"))
    assert len(few) == 8
    EnrolmentFactory.create_batch(60, cohort=cohort)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("admin:programs_enrolment_changelist"))

    assert len(many) == len(few)


def test_it_approves_selected_enrolments_but_not_people_who_withdrew(client, admin_user, cohort):
    client.force_login(admin_user)
    applied = EnrolmentFactory.create_batch(2, cohort=cohort, status=Enrolment.Status.APPLIED)
    withdrawn = EnrolmentFactory(cohort=cohort, status=Enrolment.Status.WITHDRAWN)

    response = client.post(
        reverse("admin:programs_enrolment_changelist"),
        {"action": "approve", "_selected_action": [e.pk for e in [*applied, withdrawn]]},
        follow=True,
    )

    page = response.content.decode()
    assert "2 enrolment(s) approved." in page
    assert "1 withdrew and were left unchanged." in page
    assert {e.status for e in Enrolment.objects.filter(pk__in=[e.pk for e in applied])} == {
        Enrolment.Status.APPROVED
    }
    withdrawn.refresh_from_db()
    assert withdrawn.status == Enrolment.Status.WITHDRAWN


def test_it_moves_a_cohort_forward_only_when_its_guard_allows(client, admin_user, program):
    client.force_login(admin_user)
    draft = CohortFactory(program=program, status=Cohort.Status.DRAFT, name="Draft")
    enrolling = CohortFactory(program=program, status=Cohort.Status.ENROLLING, name="Empty")

    response = client.post(
        reverse("admin:programs_cohort_changelist"),
        {"action": "advance", "_selected_action": [draft.pk, enrolling.pk]},
        follow=True,
    )

    page = response.content.decode()
    assert "now enrolling" in page
    assert "Approve at least one mentor and one mentee before matching starts." in page
    draft.refresh_from_db()
    enrolling.refresh_from_db()
    assert draft.status == Cohort.Status.ENROLLING
    assert enrolling.status == Cohort.Status.ENROLLING


def test_it_exports_participants_of_selected_cohorts(client, admin_user, cohort, mentee):
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:programs_cohort_changelist"),
        {"action": "export_participants", "_selected_action": [cohort.pk]},
    )

    body = response.content.decode("utf-8")
    assert body.startswith("\ufeffProgram,Cohort,Email")
    assert "mo.mentee@example.org" in body


def test_it_merges_duplicate_terms_into_the_most_used(client, admin_user, cohort):
    client.force_login(admin_user)
    popular = CompetencyFactory(name="Public speaking")
    typo = CompetencyFactory(name="Public speakng", status=Competency.Status.SUGGESTED)
    for _ in range(2):
        EnrolmentCompetencyFactory(enrolment__cohort=cohort, competency=popular)
    EnrolmentCompetencyFactory(enrolment__cohort=cohort, competency=typo)

    client.post(
        reverse("admin:programs_competency_changelist"),
        {"action": "merge_into_most_used", "_selected_action": [popular.pk, typo.pk]},
    )

    assert not Competency.objects.filter(name="Public speakng").exists()
    assert EnrolmentCompetency.objects.filter(competency=popular).count() == 3
    assert popular.synonyms.filter(name="Public speakng").exists()


def test_it_never_shows_an_invitations_secret_token(client, admin_user, cohort):
    client.force_login(admin_user)
    invitation = Invitation.objects.create(cohort=cohort, email="x@example.org", role="mentee")

    listing = client.get(reverse("admin:programs_invitation_changelist"))
    detail = client.get(reverse("admin:programs_invitation_change", args=[invitation.pk]))

    assert listing.status_code == detail.status_code == 200
    assert invitation.token not in listing.content.decode()
    assert invitation.token not in detail.content.decode()
