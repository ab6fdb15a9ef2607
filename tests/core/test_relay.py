"""The relay beat runs every minute (core.tasks.background_work_relay_task): work whose message to
the worker was lost (an email, an announcement, a matching run) is published again, work stuck
with a dead worker is resolved, and a worker that is only behind is not buried in copies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from core.tasks import background_work_relay_task
from matching.models import MatchRun
from matching.services import match_run_create
from matching.services.messages import RUN_WORKER_LOST
from mentorship.celery import PERIODIC_TASKS
from notifications.models import Notification, OutboundEmail
from notifications.services import notify
from programs.models import Announcement, Cohort
from tests.factories import AnnouncementFactory, MatchRunFactory, OutboundEmailFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def relay_settings(settings) -> None:
    settings.OUTBOX_RELAY_GRACE_SECONDS = 120
    settings.OUTBOX_SENDING_TIMEOUT_SECONDS = 600
    settings.OUTBOX_RELAY_BATCH_SIZE = 500
    settings.ANNOUNCEMENT_STALLED_SECONDS = 600
    settings.MATCH_RUN_STUCK_SECONDS = 1200


def relay(django_capture_on_commit_callbacks) -> dict[str, int]:
    # The test's transaction never commits: run what the relay queues on commit, as a worker's
    # committed transaction would.
    with django_capture_on_commit_callbacks(execute=True):
        return background_work_relay_task()


def test_it_is_scheduled_every_minute():
    assert PERIODIC_TASKS["relay lost background work"] == (
        "core.tasks.background_work_relay_task",
        60,
    )


def test_it_sends_lost_emails_and_resolves_stuck_ones(
    clock, mailoutbox, django_capture_on_commit_callbacks
):
    OutboundEmailFactory(subject="Lost on its way")
    OutboundEmailFactory(status=OutboundEmail.Status.SENDING, claimed_at=T0, subject="Stuck")
    clock.move_to(at(601))

    done = relay(django_capture_on_commit_callbacks)

    assert sorted(m.subject for m in mailoutbox) == ["Lost on its way", "Stuck"]
    assert done["emails_relayed"] == 1
    assert done["emails_resent_after_stuck"] == 1
    assert not OutboundEmail.objects.exclude(status=OutboundEmail.Status.SENT).exists()


def test_it_does_not_pile_copies_on_a_worker_that_is_only_behind(
    clock, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    OutboundEmailFactory(subject="Waiting in the queue")
    OutboundEmailFactory(status=OutboundEmail.Status.SENDING, claimed_at=T0, subject="Stuck")
    clock.move_to(at(601))
    monkeypatch.setattr("core.services.broker_backlog", lambda: 500)

    done = relay(django_capture_on_commit_callbacks)

    assert "emails_relayed" not in done
    assert [m.subject for m in mailoutbox] == ["Stuck"], "stuck work is resolved all the same"

    monkeypatch.setattr("core.services.broker_backlog", lambda: 3)
    relay(django_capture_on_commit_callbacks)
    assert sorted(m.subject for m in mailoutbox) == ["Stuck", "Waiting in the queue"]


def test_it_goes_on_when_one_step_fails(
    clock, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    def broken() -> int:
        raise RuntimeError("database hiccup")

    monkeypatch.setattr("core.services.announcement_relay", broken)
    OutboundEmailFactory(subject="Lost on its way")
    clock.move_to(at(121))

    done = relay(django_capture_on_commit_callbacks)

    assert done["announcements_relayed"] == -1
    assert [m.subject for m in mailoutbox] == ["Lost on its way"]


def test_it_delivers_an_announcement_whose_task_never_ran(
    clock, cohort, mentor, mentee, mailoutbox, django_capture_on_commit_callbacks
):
    announcement = AnnouncementFactory(cohort=cohort, subject="Kick-off on Monday")

    clock.move_to(at(119))
    assert relay(django_capture_on_commit_callbacks)["announcements_relayed"] == 0
    clock.move_to(at(121))
    assert relay(django_capture_on_commit_callbacks)["announcements_relayed"] == 1

    announcement.refresh_from_db()
    assert announcement.status == Announcement.Status.SENT
    assert sorted(m.to[0] for m in mailoutbox) == sorted([mentee.email, mentor.email])


def test_it_resumes_an_announcement_whose_worker_died_mid_way(
    clock, cohort, mentor, mentee, mailoutbox, django_capture_on_commit_callbacks
):
    announcement = AnnouncementFactory(cohort=cohort, subject="Kick-off on Monday")
    # The worker reached the mentor, then died: the announcement stays "sending".
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            kind=Notification.Kind.ANNOUNCEMENT,
            recipient=mentor,
            about=announcement,
            context={
                "announcement": announcement,
                "cohort": cohort,
                "program": cohort.program,
                "sender": announcement.created_by,
            },
        )
    Announcement.objects.filter(pk=announcement.pk).update(
        status=Announcement.Status.SENDING, delivered=1
    )

    clock.move_to(at(599))
    assert relay(django_capture_on_commit_callbacks)["announcements_relayed"] == 0, "moving"
    clock.move_to(at(601))
    assert relay(django_capture_on_commit_callbacks)["announcements_relayed"] == 1

    announcement.refresh_from_db()
    assert announcement.status == Announcement.Status.SENT
    assert [m.to for m in mailoutbox] == [[mentor.email], [mentee.email]], "nobody twice"
    assert Notification.objects.filter(kind=Notification.Kind.ANNOUNCEMENT).count() == 2


@pytest.fixture
def matching_cohort(cohort) -> Cohort:
    cohort.status = Cohort.Status.MATCHING
    cohort.save(update_fields=["status"])
    return cohort


def test_it_runs_a_matching_run_whose_task_never_ran(
    clock, matching_cohort, django_capture_on_commit_callbacks
):
    run = MatchRunFactory(cohort=matching_cohort, status=MatchRun.Status.QUEUED)

    clock.move_to(at(121))
    assert relay(django_capture_on_commit_callbacks)["match_runs_relayed"] == 1

    run.refresh_from_db()
    assert run.status != MatchRun.Status.QUEUED
    assert run.started_at == at(121)


def test_it_fails_a_run_whose_worker_died_and_tells_the_coordinator(
    clock, matching_cohort, coordinator, client, django_capture_on_commit_callbacks
):
    run = MatchRunFactory(
        cohort=matching_cohort, status=MatchRun.Status.RUNNING, started_at=T0, progress=40
    )

    clock.move_to(at(1199))
    assert relay(django_capture_on_commit_callbacks)["match_runs_failed_after_stuck"] == 0
    clock.move_to(at(1201))
    assert relay(django_capture_on_commit_callbacks)["match_runs_failed_after_stuck"] == 1

    run.refresh_from_db()
    assert (run.status, run.error, run.finished_at) == ("failed", RUN_WORKER_LOST, at(1201))
    client.force_login(coordinator)
    page = client.get(reverse("matching:run_detail", args=[run.pk])).content.decode()
    assert "the worker running it was lost" in page
    # Nothing blocks the next run any more.
    assert match_run_create(cohort=matching_cohort, created_by=coordinator).pk != run.pk
