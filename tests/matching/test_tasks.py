"""Matching's tasks are safe to run twice: a second delivery finds nothing left to do."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from matching import services, tasks
from matching.models import MatchingConfig, MatchRun, MentorRequest

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def test_it_executes_a_run_once_when_the_task_is_delivered_twice(
    matching_cohort, matching_people, coordinator
):
    run = services.match_run_create(cohort=matching_cohort, created_by=coordinator)

    first = tasks.match_run_execute_task.delay(run_id=run.pk).get()
    proposals = list(run.proposals.values_list("pk", "mentor_id", "mentee_id"))
    second = tasks.match_run_execute_task.delay(run_id=run.pk).get()

    assert first == second == MatchRun.Status.SUCCEEDED
    p = matching_people
    assert sorted((m, e) for _, m, e in proposals) == sorted(
        [(p.maya.pk, p.mo.pk), (p.maya.pk, p.eli.pk), (p.theo.pk, p.dana.pk)]
    )
    assert list(run.proposals.values_list("pk", "mentor_id", "mentee_id")) == proposals
    run.refresh_from_db()
    assert run.matched_count == 3


@pytest.fixture
def due_requests(program, matching_cohort, matching_people):
    """Mo asked Maya, then Theo; Dana asked Theo: both first requests fall due after
    five days."""
    program.mentees_may_request = True
    program.save()
    MatchingConfig.objects.create(program=program, request_response_days=5)
    p = matching_people
    with time_machine.travel(NOW, tick=False):
        services.mentor_request_create(mentee=p.mo, mentors=[p.maya, p.theo])
        services.mentor_request_create(mentee=p.dana, mentors=[p.maya])
    return p


def test_it_expires_a_request_once_when_the_sweep_runs_twice(
    due_requests, mailoutbox, django_capture_on_commit_callbacks
):
    p = due_requests

    with (
        time_machine.travel(NOW + dt.timedelta(days=6), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        first = tasks.mentor_request_expire_due_task.delay().get()
        second = tasks.mentor_request_expire_due_task.delay().get()

    assert (first, second) == (2, 0)
    assert MentorRequest.objects.get(mentee=p.mo, mentor=p.maya).status == "expired"
    assert MentorRequest.objects.get(mentee=p.mo, mentor=p.theo).status == "pending"
    assert MentorRequest.objects.get(mentee=p.dana, mentor=p.maya).status == "expired"
    sent = sorted((m.to[0], m.subject) for m in mailoutbox)
    assert sent == sorted(
        [
            (p.mo.user.email, "Your request to Maya Mentor expired"),
            (p.theo.user.email, "Mo Mentee would like you as their mentor"),
            (p.dana.user.email, "Your request to Maya Mentor expired"),
            (p.dana.user.email, "Choose another mentor in Leadership Mentoring"),
        ]
    )


def test_it_goes_on_past_a_request_that_fails_and_retries_it_next_time(
    due_requests, monkeypatch, mailoutbox, django_capture_on_commit_callbacks
):
    """Each expiry commits on its own; asking the mentee's next choice is a step of its own
    (so it never holds two people's locks at once, see matching.services.places): when that
    step fails, the next sweep finds the mentee with a choice queued and none sent."""
    p = due_requests
    send_next = services.requests._request_send_next

    def fails_for_mo(*, mentee, **kwargs):
        if mentee.pk == p.mo.pk:
            raise RuntimeError("mail server down")
        return send_next(mentee=mentee, **kwargs)

    monkeypatch.setattr(services.requests, "_request_send_next", fails_for_mo)
    later = NOW + dt.timedelta(days=6)
    with (
        time_machine.travel(later, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert tasks.mentor_request_expire_due_task.delay().get() == 2

    # Mo's request expired and she was told; her next choice failed and waits, queued.
    assert MentorRequest.objects.get(mentee=p.mo, mentor=p.maya).status == "expired"
    assert MentorRequest.objects.get(mentee=p.mo, mentor=p.theo).status == "queued"
    assert MentorRequest.objects.get(mentee=p.dana, mentor=p.maya).status == "expired"
    assert p.theo.user.email not in {m.to[0] for m in mailoutbox}

    monkeypatch.undo()
    with (
        time_machine.travel(later, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert tasks.mentor_request_expire_due_task.delay().get() == 0

    assert MentorRequest.objects.get(mentee=p.mo, mentor=p.theo).status == "pending"
    assert [m.subject for m in mailoutbox if m.to == [p.theo.user.email]] == [
        "Mo Mentee would like you as their mentor"
    ]
