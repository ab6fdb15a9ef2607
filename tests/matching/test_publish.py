"""Publishing a run in the background: the press only queues a job, a worker publishes the pairs
in batches of a fixed number of queries, a crash or a lost worker leaves a job that continues
where it stopped, a second press lands on the same job, and the coordinator follows a progress
bar that only they can see."""

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

import matching.services.publish as publish_module
from matching import services
from matching.models import MatchRun, Proposal, Relationship, RelationshipMember
from notifications.models import Notification, OutboundEmail
from programs.models import BulkJob, Cohort, Program
from programs.services import JOB_STALE_AFTER, bulk_job_resume_stale
from tests.factories import CohortFactory, MatchRunFactory, ProposalFactory

pytestmark = pytest.mark.django_db

PERSONAS = ["coordinator", "other_coordinator", "mentor", "mentee", "outsider", "anonymous"]
# What one batch may cost, whatever its size: the job's row, the run, the pending pairs, the
# lock on their people, the cohort's partners and mentor places, relationships, members,
# requests, proposals (two), emails, notifications, progress. SQLite splits a bulk insert every
# 999 parameters, which adds one or two at the largest batch.
QUERIES_PER_BATCH = 19
# Around the batches: claiming the job, the last batch that finds nothing left, the summary.
QUERIES_PER_JOB = 16


def accepted_run(program: Program, pairs: int, *, mode: str = "one_to_one") -> MatchRun:
    """A finished run in a new matching cohort of `program`, with `pairs` accepted pairs of
    people found nowhere else (each mentor has places for all)."""
    cohort = CohortFactory(program=program, status=Cohort.Status.MATCHING)
    run = MatchRunFactory(cohort=cohort, parameters={"mode": mode})
    ProposalFactory.create_batch(pairs, run=run, decision=Proposal.Decision.ACCEPTED)
    return run


def one_batch(job: BulkJob) -> int:
    """Run one batch of the job as its worker would, and count it."""
    with transaction.atomic():
        locked = BulkJob.objects.select_for_update().get(pk=job.pk)
        count = services.match_run_publish_batch(locked)
        BulkJob.objects.filter(pk=job.pk).update(
            done=F("done") + count, status=BulkJob.Status.RUNNING
        )
    return count


def emails_per_person() -> Counter[str]:
    """How many "you are matched" notifications each address has."""
    kind = Notification.Kind.MATCH_PUBLISHED
    return Counter(Notification.objects.filter(kind=kind).values_list("email", flat=True))


# --- The press ---------------------------------------------------------------------------------


def test_the_press_only_queues_a_job_and_changes_nothing_yet(
    program, coordinator, django_capture_on_commit_callbacks
):
    run = accepted_run(program, 12)

    with django_capture_on_commit_callbacks(execute=False) as queued:
        job = services.match_run_publish(run=run, published_by=coordinator)

    assert (job.kind, job.status, job.total, job.done) == ("publish", "queued", 12, 0)
    assert len(queued) == 1
    assert not Relationship.objects.exists()
    assert not OutboundEmail.objects.exists()
    run.refresh_from_db()
    assert run.publish_job == job
    assert run.published_at is None


def test_a_second_press_while_it_runs_shows_the_running_job(
    program, coordinator, django_capture_on_commit_callbacks
):
    run = accepted_run(program, 12)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        first = services.match_run_publish(run=run, published_by=coordinator)
        BulkJob.objects.filter(pk=first.pk).update(status=BulkJob.Status.RUNNING)
        second = services.match_run_publish(run=run, published_by=coordinator)

    assert second == first
    assert len(queued) == 1, "no second task for the second press"
    assert BulkJob.objects.count() == 1


# --- Batches and their cost --------------------------------------------------------------------


@pytest.mark.parametrize("pairs", [10, 60])
def test_it_publishes_every_pair_in_a_bounded_number_of_queries(
    program, coordinator, pairs, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    run = accepted_run(program, pairs)
    with django_capture_on_commit_callbacks(execute=False):
        job = services.match_run_publish(run=run, published_by=coordinator)

    # One batch of 10 or 60 pairs, and the job's claim and summary around it.
    with django_assert_max_num_queries(QUERIES_PER_BATCH + QUERIES_PER_JOB):
        job = services.match_run_publish_execute(job_id=job.pk)

    assert (job.status, job.done, job.total) == ("done", pairs, pairs)
    assert Relationship.objects.filter(source_run=run).count() == pairs
    assert RelationshipMember.objects.count() == 2 * pairs
    assert OutboundEmail.objects.count() == 2 * pairs
    assert set(emails_per_person().values()) == {1}
    run.refresh_from_db()
    assert run.published_at is not None


def test_every_batch_costs_the_same_whatever_the_cohort(
    program, coordinator, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(publish_module, "PUBLISH_BATCH_SIZE", 25)
    run = accepted_run(program, 60)
    with django_capture_on_commit_callbacks(execute=False):
        job = services.match_run_publish(run=run, published_by=coordinator)

    costs, done = [], []
    while True:
        with CaptureQueriesContext(connection) as queries:
            count = one_batch(job)
        if not count:
            break
        costs.append(len(queries))
        job.refresh_from_db()
        done.append(job.done)

    assert done == [25, 50, 60]
    assert max(costs) <= QUERIES_PER_BATCH
    assert Relationship.objects.count() == 60


def test_it_never_splits_a_circle_between_batches(
    program, coordinator, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(publish_module, "PUBLISH_BATCH_SIZE", 2)
    cohort = CohortFactory(program=program, status=Cohort.Status.MATCHING)
    run = MatchRunFactory(cohort=cohort, parameters={"mode": "circle"})
    for number in (1, 2):
        mentor = ProposalFactory(run=run, circle_number=number, decision="accepted").mentor
        ProposalFactory.create_batch(
            2, run=run, mentor=mentor, circle_number=number, decision="accepted"
        )

    with django_capture_on_commit_callbacks(execute=True):
        job = services.match_run_publish(run=run, published_by=coordinator)
        job = services.match_run_publish_execute(job_id=job.pk)

    assert job.summary == "Published 2 circles. Everyone in them is emailed."
    sizes = sorted(r.members.count() for r in Relationship.objects.filter(source_run=run))
    assert sizes == [4, 4]


# --- A crash, a lost worker -------------------------------------------------------------------


def test_a_crash_after_the_first_batch_continues_where_it_stopped(
    program, coordinator, monkeypatch, mailoutbox, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(publish_module, "PUBLISH_BATCH_SIZE", 25)
    run = accepted_run(program, 60)
    real_notify_many = publish_module.notify_many
    batches = []

    def crash_in_the_second_batch(*, messages):
        batches.append(len(messages))
        if len(batches) == 2:
            raise OSError("the mail template disk went away")
        return real_notify_many(messages=messages)

    monkeypatch.setattr(publish_module, "notify_many", crash_in_the_second_batch)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.match_run_publish(run=run, published_by=coordinator)
        failed = services.match_run_publish_execute(job_id=job.pk)

    assert (failed.status, failed.done) == ("failed", 25)
    assert "the mail template disk went away" in failed.error
    assert Relationship.objects.count() == 25, "the first batch stays; the second rolled back"
    assert len(mailoutbox) == 50
    assert run.proposals.filter(publication="started").count() == 25

    monkeypatch.setattr(publish_module, "notify_many", real_notify_many)
    # The coordinator presses again: the same job continues with the rest.
    with django_capture_on_commit_callbacks(execute=True):
        again = services.match_run_publish(run=run, published_by=coordinator)
        done = services.match_run_publish_execute(job_id=again.pk)

    assert again.pk == job.pk
    assert (done.status, done.done, done.total) == ("done", 60, 60)
    assert Relationship.objects.count() == 60
    assert Counter(m.to[0] for m in mailoutbox) == Counter(emails_per_person())
    assert set(Counter(m.to[0] for m in mailoutbox).values()) == {1}, "nobody emailed twice"
    assert len(mailoutbox) == 120


def test_a_job_whose_worker_was_lost_is_resumed_and_finishes(
    program, coordinator, monkeypatch, mailoutbox, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(publish_module, "PUBLISH_BATCH_SIZE", 25)
    run = accepted_run(program, 30)
    with django_capture_on_commit_callbacks(execute=False):
        job = services.match_run_publish(run=run, published_by=coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        one_batch(job)  # then the worker is killed: nothing marks the job failed
    assert bulk_job_resume_stale() == 0, "a job that moved recently keeps its worker"

    later = timezone.now() + JOB_STALE_AFTER + dt.timedelta(minutes=1)
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True):
        assert bulk_job_resume_stale() == 1

    job.refresh_from_db()
    assert (job.status, job.done) == ("done", 30)
    assert Relationship.objects.count() == 30
    assert len(mailoutbox) == 60


def test_running_the_task_twice_publishes_once(
    program, coordinator, mailoutbox, django_capture_on_commit_callbacks
):
    from matching.tasks import match_run_publish_task

    run = accepted_run(program, 5)
    with django_capture_on_commit_callbacks(execute=False):
        job = services.match_run_publish(run=run, published_by=coordinator)

    with django_capture_on_commit_callbacks(execute=True):
        assert match_run_publish_task(job_id=job.pk) == "done"
        assert match_run_publish_task(job_id=job.pk) == "done"

    assert Relationship.objects.count() == 5
    assert len(mailoutbox) == 10


def test_it_skips_a_mentee_who_got_a_mentor_in_an_earlier_batch_of_another_run(
    program, coordinator, monkeypatch, django_capture_on_commit_callbacks
):
    """The partners and places are read again for every batch, so a batch sees what the batches
    before it (and anyone matching by hand meanwhile) did."""
    monkeypatch.setattr(publish_module, "PUBLISH_BATCH_SIZE", 1)
    run = accepted_run(program, 1)
    proposal = run.proposals.get()
    # The same mentee with a second mentor, later in the same run.
    ProposalFactory(run=run, mentee=proposal.mentee, decision="accepted")

    with django_capture_on_commit_callbacks(execute=True):
        job = services.match_run_publish(run=run, published_by=coordinator)
        job = services.match_run_publish_execute(job_id=job.pk)

    assert Relationship.objects.count() == 1
    assert job.summary == "Published 1 pair. Everyone in it is emailed."
    assert job.details == [
        f"Skipped 1: meanwhile they got a mentor another way ({proposal.mentee.user})."
    ]


# --- The pages --------------------------------------------------------------------------------


def test_the_press_answers_at_once_with_the_jobs_page(
    client, program, coordinator, django_capture_on_commit_callbacks
):
    run = accepted_run(program, 12)
    client.force_login(coordinator)

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("matching:run_publish", args=[run.pk]))

    job = BulkJob.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("programs:job_detail", args=[job.pk])
    page = client.get(response.url).content.decode()
    assert f"Publishing run {run.pk} of" in page
    assert "Waiting for a worker" in page
    assert 'aria-valuenow="0"' in page
    # Pressed again (a double click, a reload): the same job, no second one.
    with django_capture_on_commit_callbacks(execute=False):
        again = client.post(reverse("matching:run_publish", args=[run.pk]))
    assert again.url == response.url
    assert BulkJob.objects.count() == 1
    # The run's own page says it is being published and offers no more changes.
    run_page = client.get(reverse("matching:run_detail", args=[run.pk])).content.decode()
    assert "Publishing" in run_page
    assert reverse("matching:run_accept_all", args=[run.pk]) not in run_page


def test_the_progress_bar_moves_with_each_batch_then_shows_the_outcome(
    client, program, coordinator, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(publish_module, "PUBLISH_BATCH_SIZE", 25)
    run = accepted_run(program, 60)
    client.force_login(coordinator)
    with django_capture_on_commit_callbacks(execute=False):
        job = services.match_run_publish(run=run, published_by=coordinator)
    progress_url = reverse("programs:job_progress", args=[job.pk])

    with django_capture_on_commit_callbacks(execute=True):
        one_batch(job)
    fragment = client.get(progress_url)

    assert "25 of 60" in fragment.content.decode()
    assert "<strong>41%</strong>" in fragment.content.decode()
    assert "HX-Refresh" not in fragment

    with django_capture_on_commit_callbacks(execute=True):
        services.match_run_publish_execute(job_id=job.pk)
    fragment = client.get(progress_url)

    assert fragment["HX-Refresh"] == "true"
    assert "<strong>100%</strong>" in fragment.content.decode()
    page = client.get(reverse("programs:job_detail", args=[job.pk])).content.decode()
    assert "Published 60 pairs. Everyone in them is emailed." in page
    assert reverse("matching:run_detail", args=[run.pk]) in page


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("page", ["job_detail", "job_progress"])
def test_only_the_programs_coordinators_follow_the_job(
    client, sign_in, program, coordinator, persona, page, django_capture_on_commit_callbacks
):
    run = accepted_run(program, 3)
    with django_capture_on_commit_callbacks(execute=False):
        job = services.match_run_publish(run=run, published_by=coordinator)
    sign_in(persona)

    response = client.get(reverse(f"programs:{page}", args=[job.pk]))

    if persona == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    elif persona == "coordinator":
        assert response.status_code == 200
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("persona", ["other_coordinator", "mentor", "mentee", "outsider"])
def test_nobody_else_can_press_publish(
    client, sign_in, program, persona, django_capture_on_commit_callbacks
):
    run = accepted_run(program, 3)
    sign_in(persona)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("matching:run_publish", args=[run.pk]))

    assert response.status_code == 404
    assert not BulkJob.objects.exists()
    assert not Relationship.objects.exists()


def test_the_admin_action_queues_the_same_job_and_links_to_it(
    client, admin_user, program, django_capture_on_commit_callbacks
):
    run = accepted_run(program, 4)
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:matching_matchrun_changelist"),
            {"action": "publish_accepted", "_selected_action": [run.pk]},
            follow=True,
        )

    job = BulkJob.objects.get()
    job_admin = reverse("admin:programs_bulkjob_change", args=[job.pk])
    assert f"Run {run.pk}: publishing 4 accepted pair(s)" in response.content.decode()
    assert job_admin in response.content.decode()
    assert Relationship.objects.filter(source_run=run).count() == 4
    page = client.get(job_admin).content.decode()
    assert "Published 4 pairs. Everyone in them is emailed." in page
