"""Two reminder sweeps at the same moment, in two threads with their own PostgreSQL connections,
record each due reminder exactly once and lose none. Needs PostgreSQL (SQLite takes one writer
at a time, so nothing would race): skipped on a bare laptop, failed under CI.

The world: eight pairs in an active cohort, people from UTC+14 to UTC-12, each pair with a
meeting one partner logged and the other neither confirmed nor rated, an agreement only the
mentor signed, a goal past its target date and one due within the week; half the pairs have not
met for weeks, so the coordinator hears they are at risk (an email now). Every rule has
something to say, about fifty reminders in all.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
from django.db import connection, connections

from goals import reminder_sweep as sweep_module
from goals.models import CheckIn
from goals.reminder_sweep import SweepResult, reminder_sweep
from goals.reminders import invitation_batches, relationship_batches, request_batches
from matching.models import RelationshipMember
from notifications.models import Notification, OutboundEmail
from notifications.rules import reminders_due
from notifications.services import notification_key
from programs.models import Cohort
from tests.conftest import require_service
from tests.factories import (
    AgreementFactory,
    AgreementSignatureFactory,
    CheckInFactory,
    CohortFactory,
    GoalFactory,
    RelationshipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
ZONES = ("Pacific/Kiritimati", "Etc/GMT+12", "Europe/London", "Asia/Kolkata")
PAIRS = 8


@pytest.fixture
def world(program) -> None:
    require_service(
        connection.vendor == "postgresql",
        "two sweeps racing need a database with concurrent writers (set DATABASE_URL to "
        "PostgreSQL)",
    )
    cohort = CohortFactory(
        program=program,
        status=Cohort.Status.ACTIVE,
        starts_on=dt.date(2026, 1, 5),
        ends_on=dt.date(2026, 3, 30),
    )
    for n in range(PAIRS):
        pair = RelationshipFactory(
            cohort=cohort,
            mentee=UserFactory(time_zone=ZONES[n % len(ZONES)]),
            mentor=UserFactory(time_zone=ZONES[(n + 1) % len(ZONES)]),
            started_at=dt.datetime(2026, 1, 12, 9, tzinfo=dt.UTC),
        )
        mentee = pair.members.get(role=RelationshipMember.Role.MENTEE)
        mentor = pair.members.get(role=RelationshipMember.Role.MENTOR)
        AgreementSignatureFactory(agreement=AgreementFactory(relationship=pair), member=mentor)
        met_on = dt.date(2026, 1, 20) if n % 2 else dt.date(2026, 2, 24)
        check_in = CheckInFactory(relationship=pair, logged_by=mentor, met_on=met_on)
        CheckIn.objects.filter(pk=check_in.pk).update(
            created_at=dt.datetime.combine(met_on, dt.time(18), tzinfo=dt.UTC)
        )
        GoalFactory(relationship=pair, owner=mentee, target_date=dt.date(2026, 2, 20))
        GoalFactory(relationship=pair, owner=mentor, target_date=dt.date(2026, 3, 6))


def due_keys(now: dt.datetime) -> Counter[str]:
    """Every reminder the pure rules find due at `now`, by the key it must be recorded under."""
    keys: Counter[str] = Counter()
    for batches in (relationship_batches(now=now), request_batches(), invitation_batches(now=now)):
        for batch in batches:
            for reminder in reminders_due(batch.snapshot, now, batch.thresholds):
                keys[
                    notification_key(
                        kind=reminder.kind,
                        recipient=batch.users[reminder.recipient_id]
                        if reminder.recipient_id is not None
                        else reminder.email,
                        about=reminder.about,
                        period=reminder.period,
                    )
                ] += 1
    return keys


def sweep_twice_at_once() -> list[SweepResult]:
    """Both threads wait at a barrier, then sweep at the same `now`; each thread's ORM calls go
    through a connection of its own."""
    barrier = threading.Barrier(2)
    results: list[SweepResult] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=30)
            results.append(reminder_sweep(now=NOW))
        except BaseException as error:  # surfaced in the test thread below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(results) == 2
    return results


def assert_each_due_reminder_recorded_once(results: list[SweepResult]) -> None:
    expected = due_keys(NOW)
    assert len(expected) > 40  # every rule has a say
    assert set(expected.values()) == {1}
    recorded = Counter(Notification.objects.values_list("key", flat=True))
    assert set(recorded) == set(expected)  # none lost, none made up
    assert set(recorded.values()) == {1}
    for result in results:
        assert result.failed == []
        assert result.due == len(expected)
    # Between them, the two recorded each reminder once and found it taken once.
    assert sum(r.notified for r in results) == len(expected)
    assert sum(r.already for r in results) == len(expected)
    # One email queued per urgent reminder (the coordinator's at-risk notices), none twice.
    urgent = Notification.objects.filter(delivery=Notification.Delivery.EMAIL_NOW)
    assert urgent.exists()
    assert OutboundEmail.objects.count() == urgent.filter(outbound_email__isnull=False).count()
    assert not OutboundEmail.objects.filter(notification__isnull=True).exists()


def test_it_records_each_reminder_once_when_two_sweeps_run_at_once(world):
    assert_each_due_reminder_recorded_once(sweep_twice_at_once())


def test_it_records_each_reminder_once_when_both_sweeps_miss_the_others_keys(world, monkeypatch):
    """The hardest race: neither sweep sees a key the other recorded (as when both read before
    either committed), so both try to record every reminder and only the unique key decides."""
    monkeypatch.setattr(sweep_module, "recorded_keys", lambda *, keys: set())
    assert_each_due_reminder_recorded_once(sweep_twice_at_once())
