"""A due reminder reaches its recipient exactly once through a real Celery worker on Redis: the
sweep runs twice (as beat may run it), its email is queued once, and the worker sends it once even
when the send task is delivered again. Needs Redis and PostgreSQL (the worker reads the rows this
test commits); skipped on a bare laptop, failed under CI.

The sweep runs here, in the test process, so the email task it queues on commit goes to the
worker's own queue (a worker would queue it on the default one, where no test worker listens).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from goals.reminder_sweep import reminder_sweep
from matching.models import Relationship
from notifications.models import Notification, OutboundEmail
from notifications.services import notification_key
from notifications.tasks import email_send_task
from programs.models import Cohort
from tests.conftest import require_service
from tests.core.test_celery_worker import (  # noqa: F401 (fixtures)
    drain,
    redis_client,
    wait_for,
    worker_queue,
)
from tests.factories import CohortFactory, RelationshipFactory, UserFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def lapsed_pair(program) -> Relationship:
    """Two people matched 60 days ago who never met and set no goals: at risk, so `coordinator`
    is told now, by email (the members' own reminders wait for their daily email)."""
    require_service(
        connection.vendor == "postgresql",
        "the worker needs a shared database (set DATABASE_URL to PostgreSQL)",
    )
    today = timezone.localdate()
    cohort = CohortFactory(
        program=program,
        status=Cohort.Status.ACTIVE,
        starts_on=today - dt.timedelta(days=60),
        ends_on=today + dt.timedelta(days=120),
    )
    return RelationshipFactory(
        cohort=cohort,
        mentor=UserFactory(email="lena.mentor@example.org", display_name="Lena Mentor"),
        mentee=UserFactory(email="quinn.mentee@example.org", display_name="Quinn Mentee"),
        started_at=timezone.now() - dt.timedelta(days=60),
    )


def test_it_emails_a_due_reminder_exactly_once(
    worker_queue,  # noqa: F811
    redis_client,  # noqa: F811
    lapsed_pair,
    coordinator,
):
    first = reminder_sweep()
    again = reminder_sweep()  # beat ran the sweep twice
    assert first.notified > 0
    assert first.failed == []
    assert (again.notified, again.already) == (0, first.due)

    year, week, _ = timezone.now().isocalendar()
    key = notification_key(
        kind=Notification.Kind.RELATIONSHIP_AT_RISK,
        recipient=coordinator,
        about=lapsed_pair,
        period=f"{year}-W{week:02d}",
    )
    notification = Notification.objects.get(key=key)
    email = notification.outbound_email
    assert email is not None
    assert OutboundEmail.objects.count() == 1  # the members' reminders wait for the daily email

    def sent() -> bool:
        email.refresh_from_db()
        return email.status == OutboundEmail.Status.SENT

    wait_for(sent, what="the worker to send the reminder")
    # The send task delivered again (acks_late re-delivers when a worker dies mid-task): the
    # claimed row makes it a no-op.
    email_send_task.delay(email_id=email.pk)
    drain(redis_client)
    email.refresh_from_db()
    assert email.attempts == 1
    assert email.to == [coordinator.email]
    assert Notification.objects.filter(key=key).count() == 1
    assert OutboundEmail.objects.filter(status=OutboundEmail.Status.SENT).count() == 1
