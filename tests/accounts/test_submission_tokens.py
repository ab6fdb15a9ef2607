"""The one-time tokens of create forms: claimed once per person, tied to what they made, and
forgotten after SUBMISSION_TOKEN_KEPT by a daily task."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from accounts import tasks
from accounts.models import SubmissionToken
from accounts.services import (
    SUBMISSION_TOKEN_KEPT,
    AlreadySubmittedError,
    submission_claim,
    submission_record,
)
from mentorship.celery import PERIODIC_TASKS
from programs.models import Program
from tests.factories import ProgramFactory, SubmissionTokenFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def create_program(user, token) -> Program:
    """A create service in miniature: claim, create, record, in one transaction."""
    with transaction.atomic():
        submission_claim(user=user, token=token, model=Program)
        program = ProgramFactory()
        submission_record(user=user, token=token, created=program)
    return program


def test_it_hands_back_what_the_first_submit_made():
    user, token = UserFactory(), uuid.uuid4()
    first = create_program(user, token)

    with pytest.raises(AlreadySubmittedError) as again:
        create_program(user, token)

    assert again.value.created == first
    assert Program.objects.count() == 1


def test_a_failed_submit_leaves_its_token_free():
    user, token = UserFactory(), uuid.uuid4()

    def refused() -> None:
        with transaction.atomic():
            submission_claim(user=user, token=token, model=Program)
            raise RuntimeError("the service refused")

    with pytest.raises(RuntimeError):
        refused()

    assert create_program(user, token)
    assert SubmissionToken.objects.get().object_id == Program.objects.get().pk


def test_no_token_and_no_user_claim_nothing():
    user = UserFactory()

    create_program(user, None)
    create_program(None, uuid.uuid4())

    assert not SubmissionToken.objects.exists()
    assert Program.objects.count() == 2


def test_the_daily_task_forgets_tokens_older_than_a_month_once():
    with time_machine.travel(NOW - SUBMISSION_TOKEN_KEPT - dt.timedelta(minutes=1), tick=False):
        old = SubmissionTokenFactory(created_at=timezone.now())
    with time_machine.travel(NOW - SUBMISSION_TOKEN_KEPT + dt.timedelta(minutes=1), tick=False):
        recent = SubmissionTokenFactory(created_at=timezone.now())

    with time_machine.travel(NOW, tick=False):
        assert tasks.submission_tokens_purge_task.delay().get() == 1
        assert tasks.submission_tokens_purge_task.delay().get() == 0

    assert list(SubmissionToken.objects.all()) == [recent]
    assert not SubmissionToken.objects.filter(pk=old.pk).exists()
    # A form from the forgotten token's page creates again, as any old page would.
    with pytest.raises(AlreadySubmittedError):
        create_program(recent.user, recent.token)
    assert create_program(old.user, old.token)


def test_beat_runs_the_purge_daily():
    assert PERIODIC_TASKS["purge used form tokens"] == (
        "accounts.tasks.submission_tokens_purge_task",
        86400,
    )
