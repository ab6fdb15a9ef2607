"""Operator commands: the demo organisation and beat's schedule, both safe to run again."""

from __future__ import annotations

import datetime as dt
import io
from typing import cast

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from accounts.models import Profile, User
from goals.models import CheckIn, Goal, GoalChange, PrivateNote, Pulse, Reflection, SurveyResponse
from goals.selectors import health_for, relationship_home, relationship_list_for_member
from matching.models import Relationship
from mentorship.celery import PERIODIC_TASK_PREFIX, PERIODIC_TASKS
from notifications.models import Notification
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
        "relationships": Relationship.objects.count(),
        "check_ins": CheckIn.objects.count(),
        "goals": Goal.objects.count(),
        "goal_changes": GoalChange.objects.count(),
        "pulses": Pulse.objects.count(),
        "surveys": SurveyResponse.objects.count(),
        "reflections": Reflection.objects.count(),
        "private_notes": PrivateNote.objects.count(),
    }


def test_it_seeds_a_believable_demo_organisation_once(client):
    call_command("seed_demo", stdout=io.StringIO())

    assert User.objects.filter(email__endswith=DEMO).count() >= 120
    assert not User.objects.exclude(email__endswith=DEMO).exists()
    programs = dict(Program.objects.values_list("name", "kind"))
    assert programs == {"Leadership Mentoring": "one_to_one", "Peer Mentoring Circle": "peer"}
    cohort = Cohort.objects.get(program__name="Leadership Mentoring", name__startswith="Spring")
    assert cohort.enrolments.filter(role=Enrolment.Role.MENTOR).count() == 40
    assert cohort.enrolments.filter(role=Enrolment.Role.MENTEE).count() == 80
    profiles = Profile.objects.filter(user__email__endswith=DEMO)
    assert profiles.values("department").distinct().count() >= 5
    assert profiles.values("job_level").distinct().count() >= 4

    before = counts()
    call_command("seed_demo", stdout=io.StringIO())
    assert counts() == before

    assert client.login(email=f"mentee{DEMO}", password="demo-password") is True


def test_it_gives_every_demo_person_their_own_name_and_words_that_fit_their_role():
    call_command("seed_demo", stdout=io.StringIO())

    names = list(User.objects.filter(email__endswith=DEMO).values_list("display_name", flat=True))
    first_names = [name.split()[0] for name in names]
    assert len(set(first_names)) == len(names), "two demo people share a first name"
    mentor = User.objects.get(email=f"mentor{DEMO}")
    mentee = User.objects.get(email=f"mentee{DEMO}")
    assert mentor.display_name.split()[0] != mentee.display_name.split()[0]

    # What people wrote when they enrolled is in their role's voice: no mentor hopes for "someone
    # who has made the same move I want to make", no peer (a senior leader) asks to prepare for a
    # first manager role.
    by_role: dict[str, set[str]] = {}
    for role, hopes in Enrolment.objects.filter(user__email__endswith=DEMO).values_list(
        "role", "hopes"
    ):
        by_role.setdefault(role, set()).add(hopes)
    assert set(by_role) == {"mentor", "mentee", "peer"}
    assert not by_role["mentor"] & by_role["mentee"]
    assert not by_role["peer"] & (by_role["mentee"] | by_role["mentor"])
    mentor_hopes = Enrolment.objects.filter(user=mentor).values_list("hopes", flat=True)
    assert not any("senior level" in h or "the same move I want" in h for h in mentor_hopes)
    peer_goals = set(
        Enrolment.objects.filter(role="peer", user__email__endswith=DEMO).values_list(
            "development_goals", flat=True
        )
    )
    mentee_goals = set(
        Enrolment.objects.filter(role="mentee", user__email__endswith=DEMO).values_list(
            "development_goals", flat=True
        )
    )
    assert "" not in peer_goals
    assert not peer_goals & mentee_goals


def test_it_seeds_a_cohort_under_way_with_months_of_history(client):
    call_command("seed_demo", stdout=io.StringIO())

    running = Cohort.objects.get(program__name="Leadership Mentoring", status=Cohort.Status.ACTIVE)
    today = timezone.localdate()
    assert running.name == "Pilot"
    assert running.starts_on < today < running.ends_on
    relationships = list(running.relationships.select_related("cohort__program"))
    assert len(relationships) >= 12
    assert CheckIn.objects.filter(relationship__cohort=running).count() >= 3 * len(relationships)
    assert not CheckIn.objects.filter(met_on__gt=today).exists()
    assert (
        Goal.objects.filter(relationship__cohort=running).values("status").distinct().count() >= 3
    )
    assert GoalChange.objects.filter(goal__relationship__cohort=running).exists()
    statuses = {h.status for h in health_for(relationships=relationships).values()}
    assert statuses == {"on_track", "needs_attention", "at_risk"}
    # The people already in the spring cohort are in this one too, approved.
    assert not running.enrolments.exclude(status=Enrolment.Status.APPROVED).exists()

    mentee = User.objects.get(email=f"mentee{DEMO}")
    (relationship,) = relationship_list_for_member(user=mentee).filter(status="active")
    assert {m.enrolment.user.email for m in relationship.members.all()} == {
        f"mentor{DEMO}",
        f"mentee{DEMO}",
    }
    home = relationship_home(relationship=relationship, user=mentee)
    assert home.check_in_total >= 4
    assert cast(dt.datetime, home.next_meeting_at) > timezone.now()
    assert home.goals
    assert home.everyone_signed
    assert home.private_notes
    assert any(r.shared and r.author != mentee for r in home.reflections)
    assert home.health.status == "on_track"

    before = counts()
    call_command("seed_demo", stdout=io.StringIO())
    assert counts() == before

    assert client.login(email=f"mentor{DEMO}", password="demo-password") is True


def test_the_demo_mentor_finds_reminders_in_their_to_dos_and_a_second_seed_adds_none(client):
    call_command("seed_demo", stdout=io.StringIO())
    mentor = User.objects.get(email=f"mentor{DEMO}")
    reminders = Notification.objects.filter(recipient=mentor).count()
    assert reminders > 0

    call_command("seed_demo", stdout=io.StringIO())
    assert Notification.objects.filter(recipient=mentor).count() == reminders

    client.force_login(mentor)
    home = client.get("/").content.decode()
    assert "Nothing is waiting for you" not in home


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
