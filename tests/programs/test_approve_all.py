"""Approving everyone a filter of the people list matches, every page of it: the count and the
filter are stated before anything runs, the ids are frozen when the job is created, the job
approves in batches with the progress page, and the form sent twice starts one job."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

import programs.services.approvals as approvals_module
from accounts.services import ALREADY_SAVED
from programs.models import BulkJob, Enrolment
from tests.factories import CohortFactory, EnrolmentFactory

pytestmark = pytest.mark.django_db

APPLIED = Enrolment.Status.APPLIED
APPROVED = Enrolment.Status.APPROVED


def approve_all_url(cohort, query: str = "") -> str:
    url = reverse("programs:enrolment_approve_all", args=[cohort.pk])
    return f"{url}?{query}" if query else url


def statuses(enrolments) -> list[str]:
    return list(
        Enrolment.objects.filter(pk__in=[e.pk for e in enrolments]).values_list("status", flat=True)
    )


def test_the_count_and_the_filter_are_stated_before_anything_runs(client, coordinator, cohort):
    EnrolmentFactory.create_batch(3, cohort=cohort, status=APPLIED)
    EnrolmentFactory(cohort=cohort, status=Enrolment.Status.DECLINED)
    client.force_login(coordinator)

    listing = client.get(
        reverse("programs:enrolment_list", args=[cohort.pk]), {"status": "applied"}
    ).content.decode()
    assert "Approve all 3 matching this filter" in listing
    assert f'href="{approve_all_url(cohort, "status=applied")}"' in listing

    page = client.get(approve_all_url(cohort, "status=applied")).content.decode()

    assert "<strong>3 people</strong> match this filter" in page
    assert "Status: Applied" in page
    assert 'name="expected" value="3"' in page
    assert 'name="submission_token"' in page
    assert not BulkJob.objects.exists()
    assert Enrolment.objects.filter(status=APPLIED).count() == 3


def test_it_approves_the_whole_filtered_list_in_batches_with_a_progress_page(
    client, coordinator, cohort, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(approvals_module, "ENROLMENT_APPROVE_BATCH_SIZE", 25)
    people = EnrolmentFactory.create_batch(60, cohort=cohort, status=APPLIED)  # two pages of 50
    client.force_login(coordinator)
    listing = client.get(
        reverse("programs:enrolment_list", args=[cohort.pk]), {"status": "applied"}
    )
    assert listing.context["page"].paginator.num_pages == 2

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            approve_all_url(cohort, "status=applied"),
            {"expected": "60", "submission_token": str(uuid.uuid4())},
        )

    job = BulkJob.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("programs:job_detail", args=[job.pk])
    assert (job.kind, job.status, job.total, job.done) == ("approve", "done", 60, 60)
    assert job.summary == "Approved 60 people."
    assert set(statuses(people)) == {APPROVED}
    progress = client.get(response.url).content.decode()
    assert "Approved 60 people." in progress
    assert job.next_url.endswith("?status=applied")


def test_a_filter_leaves_everyone_else_alone_and_latecomers_are_not_approved(
    client, coordinator, cohort, django_capture_on_commit_callbacks
):
    mentees = EnrolmentFactory.create_batch(3, cohort=cohort, status=APPLIED)
    mentors = EnrolmentFactory.create_batch(2, cohort=cohort, role="mentor", status=APPLIED)
    waitlisted = EnrolmentFactory(cohort=cohort, status=Enrolment.Status.WAITLISTED)
    elsewhere = EnrolmentFactory(cohort=CohortFactory(program=cohort.program), status=APPLIED)
    client.force_login(coordinator)

    with django_capture_on_commit_callbacks(execute=False) as queued:
        client.post(
            approve_all_url(cohort, "role=mentee&status=applied"),
            {"expected": "3", "submission_token": str(uuid.uuid4())},
        )
    # Someone applies after the coordinator confirmed, before the worker gets to the job.
    latecomer = EnrolmentFactory(cohort=cohort, status=APPLIED)
    for callback in queued:
        callback()

    assert BulkJob.objects.get().status == "done"
    assert set(statuses(mentees)) == {APPROVED}
    assert set(statuses([*mentors, elsewhere, latecomer])) == {APPLIED}
    assert statuses([waitlisted]) == [Enrolment.Status.WAITLISTED]


def test_approving_someone_approved_changes_nothing_and_withdrawn_keep_their_decision(
    client, coordinator, cohort, django_capture_on_commit_callbacks
):
    approved = EnrolmentFactory(cohort=cohort, status=APPROVED)
    withdrawn = EnrolmentFactory(cohort=cohort, status=Enrolment.Status.WITHDRAWN)
    applied = EnrolmentFactory(cohort=cohort, status=APPLIED)
    before = Enrolment.objects.get(pk=approved.pk).status_changed_at
    client.force_login(coordinator)
    page = client.get(approve_all_url(cohort)).content.decode()
    assert "1 person is approved. 1 already approved stays as is. 1 who withdrew keeps" in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(approve_all_url(cohort), {"expected": "3"})

    job = BulkJob.objects.get()
    assert job.summary == "Approved 1 person."
    assert job.details == [
        "Already approved, left as they were: 1 person.",
        "Withdrawn, left with their own decision: 1 person.",
    ]
    assert statuses([applied]) == [APPROVED]
    assert statuses([withdrawn]) == [Enrolment.Status.WITHDRAWN]
    assert Enrolment.objects.get(pk=approved.pk).status_changed_at == before


def test_the_same_form_sent_twice_starts_one_job(
    client, coordinator, cohort, django_capture_on_commit_callbacks
):
    EnrolmentFactory.create_batch(2, cohort=cohort, status=APPLIED)
    client.force_login(coordinator)
    data = {"expected": "2", "submission_token": str(uuid.uuid4())}

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(approve_all_url(cohort, "status=applied"), data)
        # The first job has finished: only the token tells this is the same form again.
        second = client.post(approve_all_url(cohort, "status=applied"), data)

    assert BulkJob.objects.count() == 1
    assert (second.status_code, second.url) == (302, first.url)
    assert ALREADY_SAVED in [str(m) for m in get_messages(second.wsgi_request)]


def test_a_list_changed_since_the_count_was_shown_is_confirmed_again(client, coordinator, cohort):
    EnrolmentFactory.create_batch(3, cohort=cohort, status=APPLIED)
    client.force_login(coordinator)

    response = client.post(
        approve_all_url(cohort, "status=applied"),
        {"expected": "2", "submission_token": str(uuid.uuid4())},
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "The list changed since the count was shown: 3 now match" in page
    assert 'name="expected" value="3"' in page
    assert not BulkJob.objects.exists()
    assert Enrolment.objects.filter(status=APPLIED).count() == 3


@pytest.mark.parametrize("persona", ["other_coordinator", "mentee"])
def test_only_the_cohorts_coordinators_may_approve_all(client, sign_in, cohort, persona):
    EnrolmentFactory.create_batch(2, cohort=cohort, status=APPLIED)
    sign_in(persona)

    assert client.get(approve_all_url(cohort)).status_code == 404
    assert client.post(approve_all_url(cohort), {"expected": "2"}).status_code == 404
    assert not BulkJob.objects.exists()
    assert Enrolment.objects.filter(status=APPLIED).count() == 2


def test_the_filtered_list_with_its_approve_all_link_costs_the_same_queries(
    client, coordinator, cohort, django_assert_num_queries
):
    """Seven, as the unfiltered list (test_coordinator_views): the link adds no query."""
    client.force_login(coordinator)
    url = reverse("programs:enrolment_list", args=[cohort.pk]) + "?status=applied"
    EnrolmentFactory.create_batch(10, cohort=cohort, status=APPLIED)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert "Approve all 10 matching" in client.get(url).content.decode()
    assert len(few) == 7
    EnrolmentFactory.create_batch(90, cohort=cohort, status=APPLIED)
    with django_assert_num_queries(7):
        assert "Approve all 100 matching" in client.get(url).content.decode()
