"""Operator commands: the demo organisation and beat's schedule, both safe to run again."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from accounts.models import Profile, User
from mentorship.celery import PERIODIC_TASK_PREFIX, PERIODIC_TASKS
from programs.models import Cohort, Enrolment, Program

pytestmark = pytest.mark.django_db

DEMO = "@demo.mentorship.test"


def counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "profiles": Profile.objects.count(),
        "programs": Program.objects.count(),
        "cohorts": Cohort.objects.count(),
        "enrolments": Enrolment.objects.count(),
    }


def test_it_seeds_a_believable_demo_organisation_once(client):
    call_command("seed_demo", stdout=io.StringIO())

    assert User.objects.filter(email__endswith=DEMO).count() >= 120
    assert not User.objects.exclude(email__endswith=DEMO).exists()
    programs = dict(Program.objects.values_list("name", "kind"))
    assert programs == {"Leadership Mentoring": "one_to_one", "Peer Mentoring Circle": "peer"}
    cohort = Cohort.objects.get(program__name="Leadership Mentoring")
    assert cohort.enrolments.filter(role=Enrolment.Role.MENTOR).count() == 40
    assert cohort.enrolments.filter(role=Enrolment.Role.MENTEE).count() == 80
    profiles = Profile.objects.filter(user__email__endswith=DEMO)
    assert profiles.values("department").distinct().count() >= 5
    assert profiles.values("job_level").distinct().count() >= 4

    before = counts()
    call_command("seed_demo", stdout=io.StringIO())
    assert counts() == before

    assert client.login(email=f"mentee{DEMO}", password="demo-password") is True


def test_it_syncs_declared_periodic_tasks_and_disables_retired_ones():
    interval = IntervalSchedule.objects.create(every=3600, period=IntervalSchedule.SECONDS)
    retired = PeriodicTask.objects.create(
        name=PERIODIC_TASK_PREFIX + "a schedule removed from the code",
        task="core.tasks.removed_task",
        interval=interval,
        enabled=True,
    )
    someone_elses = PeriodicTask.objects.create(
        name="added by hand in the admin", task="core.tasks.other", interval=interval
    )

    call_command("sync_periodic_tasks", stdout=io.StringIO())
    call_command("sync_periodic_tasks", stdout=io.StringIO())

    ours = PeriodicTask.objects.filter(name__startswith=PERIODIC_TASK_PREFIX).exclude(pk=retired.pk)
    assert ours.count() == len(PERIODIC_TASKS)
    for short_name, (task, every_seconds) in PERIODIC_TASKS.items():
        row = PeriodicTask.objects.get(name=PERIODIC_TASK_PREFIX + short_name)
        assert row.enabled
        assert row.task == task
        assert row.interval.every == every_seconds
        assert row.interval.period == IntervalSchedule.SECONDS
    retired.refresh_from_db()
    assert retired.enabled is False
    someone_elses.refresh_from_db()
    assert someone_elses.enabled is True
