"""Invitations in the background: the form and "Email invitations" after an import only queue a
job; a worker invites in batches of a fixed number of queries; a crash leaves a job that
continues where it stopped, without a second email to anyone; and a link sent minutes ago is
never replaced by a new one. Also cloning a cohort, which invites everyone back in bulk."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
import time_machine
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

import programs.services.invitations as invitations_module
from notifications.models import Notification
from programs import services
from programs.models import BulkJob, Cohort, EnrolmentCompetency, Invitation, ParticipantImport
from tests.factories import EnrolmentCompetencyFactory, EnrolmentFactory, UserFactory

pytestmark = pytest.mark.django_db

# One batch: the job's row, the cohort, the inviter, live invitations, retiring old ones, new
# ones, accounts, notifications, emails and their link, the job's tallies and progress (and
# savepoints).
QUERIES_PER_BATCH = 18
QUERIES_PER_JOB = 14


def addresses(count: int) -> list[str]:
    return [f"person{i}@example.org" for i in range(count)]


def invite(cohort, coordinator, emails, role: str = "mentee") -> BulkJob:
    return services.invitations_send(
        cohort=cohort, emails=emails, role=role, invited_by=coordinator
    )


def one_batch(job: BulkJob) -> int:
    """Run one batch of the job as its worker would, and count it."""
    with transaction.atomic():
        locked = BulkJob.objects.select_for_update().get(pk=job.pk)
        count = invitations_module._invitation_batch(locked)
        BulkJob.objects.filter(pk=job.pk).update(
            done=F("done") + count, status=BulkJob.Status.RUNNING
        )
    return count


def imported_file(cohort, coordinator, lines: list[str]) -> ParticipantImport:
    content = "\n".join(["Email,Role,Name", *lines]).encode()
    participant_import = services.participant_import_create(
        cohort=cohort, uploaded_by=coordinator, filename="people.csv", content=content
    )
    services.participant_import_run(participant_import=participant_import)
    participant_import.refresh_from_db()
    return participant_import


# --- Cost ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [10, 60])
def test_it_invites_everyone_in_a_bounded_number_of_queries(
    cohort, coordinator, count, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    UserFactory(email="person3@example.org")  # someone with an account: in their centre too
    with django_capture_on_commit_callbacks(execute=False):
        job = invite(cohort, coordinator, addresses(count))

    with django_assert_max_num_queries(QUERIES_PER_BATCH + QUERIES_PER_JOB):
        job = services.invitation_job_execute(job_id=job.pk)

    assert (job.status, job.summary) == ("done", f"Invited {count} people.")
    assert Invitation.objects.count() == count
    assert Notification.objects.filter(kind="invitation").count() == count
    assert Notification.objects.get(email="person3@example.org").recipient is not None


def test_every_batch_costs_the_same(cohort, coordinator, monkeypatch):
    monkeypatch.setattr(invitations_module, "INVITATION_BATCH_SIZE", 25)
    job = invite(cohort, coordinator, addresses(60))

    costs = []
    while True:
        with CaptureQueriesContext(connection) as queries:
            count = one_batch(job)
        if not count:
            break
        costs.append(len(queries))

    assert len(costs) == 3
    assert max(costs) <= QUERIES_PER_BATCH
    assert Invitation.objects.count() == 60


# --- A crash, a second press, a second job ---------------------------------------------------


def test_a_crash_after_the_first_batch_continues_without_a_second_email(
    cohort, coordinator, monkeypatch, mailoutbox, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(invitations_module, "INVITATION_BATCH_SIZE", 25)
    real_notify_many = invitations_module.notify_many
    calls = []

    def crash_in_the_second_batch(*, messages):
        calls.append(len(messages))
        if len(calls) == 2:
            raise OSError("the SMTP relay's disk is full")
        return real_notify_many(messages=messages)

    monkeypatch.setattr(invitations_module, "notify_many", crash_in_the_second_batch)
    with django_capture_on_commit_callbacks(execute=True):
        job = invite(cohort, coordinator, addresses(60))
    job.refresh_from_db()

    assert (job.status, job.done) == ("failed", 25)
    assert "the SMTP relay's disk is full" in job.error
    first_links = dict(Invitation.objects.values_list("email", "token"))
    assert len(first_links) == len(mailoutbox) == 25

    monkeypatch.setattr(invitations_module, "notify_many", real_notify_many)
    # Pressed again with the same list: the same job continues with the rest.
    with django_capture_on_commit_callbacks(execute=True):
        again = invite(cohort, coordinator, addresses(60))
    again.refresh_from_db()

    assert again.pk == job.pk
    assert (again.status, again.done, again.summary) == ("done", 60, "Invited 60 people.")
    assert Counter(m.to[0] for m in mailoutbox) == Counter(addresses(60)), "one email each"
    for email, token in first_links.items():
        assert Invitation.objects.get(token=token).expires_at > timezone.now(), email


def test_email_invitations_pressed_twice_makes_one_job(
    client, cohort, coordinator, mailoutbox, django_capture_on_commit_callbacks
):
    participant_import = imported_file(
        cohort, coordinator, [f"p{i}@example.org,mentee,P {i}" for i in range(5)]
    )
    client.force_login(coordinator)
    url = reverse("programs:import_run", args=[participant_import.pk])

    with django_capture_on_commit_callbacks(execute=False) as queued:
        first = client.post(url, {"action": "invite"})
        second = client.post(url, {"action": "invite"})

    job = BulkJob.objects.get()
    assert first.url == second.url == reverse("programs:job_detail", args=[job.pk])
    assert len(queued) == 1
    # Meanwhile the import's page shows the job under way instead of the button.
    page = client.get(reverse("programs:import_review", args=[participant_import.pk]))
    assert 'role="progressbar"' in page.content.decode()
    assert "Email invitations to people who have no password yet" not in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_job_execute(job_id=job.pk)
    assert len(mailoutbox) == 5
    participant_import.refresh_from_db()
    assert participant_import.invited_count == 5


def test_sending_again_keeps_links_from_the_last_hour_and_replaces_older_ones(
    cohort, coordinator, mailoutbox, django_capture_on_commit_callbacks
):
    participant_import = imported_file(
        cohort, coordinator, ["ana@example.org,mentee,Ana", "ben@example.org,mentor,Ben"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.participant_import_invite(
            participant_import=participant_import, invited_by=coordinator
        )
    first = dict(Invitation.objects.values_list("email", "token"))
    assert len(mailoutbox) == 2

    # Minutes later, "Send the invitations again": the links just sent stay live, unsent.
    with (
        time_machine.travel(timezone.now() + dt.timedelta(minutes=10)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        job = services.participant_import_invite(
            participant_import=participant_import, invited_by=coordinator
        )
    assert job is not None
    job.refresh_from_db()
    assert job.summary == "Invited 0 people."
    assert job.details == [
        "Not emailed again, their link from the last hour still works: "
        "ana@example.org, ben@example.org."
    ]
    assert dict(Invitation.objects.values_list("email", "token")) == first
    assert len(mailoutbox) == 2

    # A day later the same press sends fresh links, and the old ones stop working.
    with time_machine.travel(timezone.now() + dt.timedelta(days=1)):
        with django_capture_on_commit_callbacks(execute=True):
            services.participant_import_invite(
                participant_import=participant_import, invited_by=coordinator
            )
        old_link = Invitation.objects.get(token=first["ana@example.org"])
        assert services.invitation_problem(invitation=old_link) == services.INVITATION_EXPIRED
    assert len(mailoutbox) == 4
    ana = Invitation.objects.filter(email="ana@example.org").order_by("-created_at").first()
    assert ana is not None
    assert ana.token != first["ana@example.org"]
    assert (ana.role, Invitation.objects.get(token=first["ben@example.org"]).role) == (
        "mentee",
        "mentor",
    )


def test_a_different_role_replaces_a_link_sent_minutes_ago(cohort, coordinator):
    first = services.invitation_create(
        cohort=cohort, email="ana@example.org", role="mentee", invited_by=coordinator
    )
    again = services.invitation_create(
        cohort=cohort, email="ana@example.org", role="mentee", invited_by=coordinator
    )
    assert again == first  # the same link: pressed twice

    mentor = services.invitation_create(
        cohort=cohort, email="ana@example.org", role="mentor", invited_by=coordinator
    )

    assert mentor != first
    first.refresh_from_db()
    assert services.invitation_problem(invitation=first) == services.INVITATION_EXPIRED


def test_nobody_to_invite_queues_nothing(client, cohort, coordinator):
    participant_import = imported_file(cohort, coordinator, ["ana@example.org,mentee,Ana"])
    ana = participant_import.cohort.enrolments.get().user
    ana.set_password("a-password-of-her-own")
    ana.save()
    client.force_login(coordinator)

    response = client.post(
        reverse("programs:import_run", args=[participant_import.pk]), {"action": "invite"}
    )

    assert response.url == reverse("programs:import_review", args=[participant_import.pk])
    assert not BulkJob.objects.exists()


# --- Cloning a cohort: everyone invited back, in bulk -------------------------------------------


@pytest.mark.parametrize("people", [3, 30])
def test_cloning_costs_the_same_queries_for_any_number_of_people(
    cohort, people, django_assert_max_num_queries
):
    cohort.status = Cohort.Status.CLOSED
    cohort.save()
    for enrolment in EnrolmentFactory.create_batch(people, cohort=cohort):
        EnrolmentCompetencyFactory(enrolment=enrolment)

    with django_assert_max_num_queries(20):  # the same for 3 or 30: none per person
        clone = services.cohort_clone(
            cohort=cohort, name="Autumn", starts_on=cohort.ends_on + dt.timedelta(days=7)
        )

    assert clone.enrolments.filter(status="invited").count() == people
    assert EnrolmentCompetency.objects.filter(enrolment__cohort=clone).count() == people
