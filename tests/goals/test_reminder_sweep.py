"""The reminder sweep through the database, on a frozen clock.

The clock stops at Monday 2 March 2026, 12:00 UTC. `world` holds:
  kiri_pair   Kiri Mentee (UTC+14, Pacific/Kiritimati) with Baker Mentor (UTC-12, Etc/GMT+12),
              started 1 February: a meeting of 10 February Baker logged that Kiri neither
              confirmed nor rated, an agreement only Baker signed, Kiri's goal due 2 March and
              Baker's due 5 March, the midpoint survey open since 16 February.
  quiet_pair  two Londoners who never met since 5 January, no goals: at risk.
  a request   to Baker's colleague Rhea Mentor, four days unanswered (another cohort).
  an invitation to new.person@example.org, six days old.
Corinne Coordinator (`coordinator`, London) coordinates the program.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
import time_machine
from django.conf import settings

from goals import reminder_sweep as sweep_module
from goals.models import CheckIn, SurveyResponse
from goals.reminder_sweep import coordinator_digest_send, reminder_sweep
from goals.tasks import daily_digest_send_task, reminder_sweep_task
from matching.models import MentorRequest, RelationshipMember
from notifications.models import Notification, OutboundEmail
from notifications.services.digest import daily_digest_send
from programs.models import Cohort, Enrolment, Invitation
from tests.factories import (
    AgreementFactory,
    AgreementSignatureFactory,
    CheckInFactory,
    CohortFactory,
    EnrolmentFactory,
    GoalFactory,
    InvitationFactory,
    MentorRequestFactory,
    RelationshipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
K = Notification.Kind


@pytest.fixture
def clock(time_machine: time_machine.TimeMachineFixture) -> time_machine.TimeMachineFixture:
    time_machine.move_to(NOW, tick=False)
    return time_machine


def _pair(cohort: Cohort, mentee_name: str, mentor_name: str, zones: tuple[str, str], **kw):
    mentee = UserFactory(
        email=f"{mentee_name.split()[0].lower()}@example.org",
        display_name=mentee_name,
        time_zone=zones[0],
    )
    mentor = UserFactory(
        email=f"{mentor_name.split()[0].lower()}@example.org",
        display_name=mentor_name,
        time_zone=zones[1],
    )
    return RelationshipFactory(cohort=cohort, mentee=mentee, mentor=mentor, **kw)


def _member(relationship, role: str) -> RelationshipMember:
    return relationship.members.select_related("enrolment__user").get(role=role)


@pytest.fixture
def active_cohort(program) -> Cohort:
    # Midpoint: 16 February.
    return CohortFactory(
        program=program,
        status=Cohort.Status.ACTIVE,
        starts_on=dt.date(2026, 1, 5),
        ends_on=dt.date(2026, 3, 30),
    )


def _kiri_pair(cohort: Cohort):
    pair = _pair(
        cohort,
        "Kiri Mentee",
        "Baker Mentor",
        ("Pacific/Kiritimati", "Etc/GMT+12"),
        started_at=dt.datetime(2026, 2, 1, 12, tzinfo=UTC),
    )
    kiri, baker = _member(pair, "mentee"), _member(pair, "mentor")
    agreement = AgreementFactory(relationship=pair)
    AgreementSignatureFactory(agreement=agreement, member=baker)
    check_in = CheckInFactory(relationship=pair, logged_by=baker, met_on=dt.date(2026, 2, 10))
    CheckIn.objects.filter(pk=check_in.pk).update(
        created_at=dt.datetime(2026, 2, 10, 18, tzinfo=UTC)
    )
    GoalFactory(relationship=pair, owner=kiri, target_date=dt.date(2026, 3, 2))
    GoalFactory(relationship=pair, owner=baker, target_date=dt.date(2026, 3, 5))
    return pair


@pytest.fixture
def world(clock, program, coordinator, active_cohort) -> dict[str, object]:
    kiri_pair = _kiri_pair(active_cohort)
    quiet_pair = _pair(
        active_cohort,
        "Quinn Mentee",
        "Lena Mentor",
        ("Europe/London", "Europe/London"),
        started_at=dt.datetime(2026, 1, 5, 9, tzinfo=UTC),
    )
    matching_cohort = CohortFactory(
        program=program,
        status=Cohort.Status.MATCHING,
        starts_on=dt.date(2026, 3, 9),
        ends_on=dt.date(2026, 9, 7),
    )
    request = MentorRequestFactory(
        cohort=matching_cohort,
        mentor=EnrolmentFactory(
            cohort=matching_cohort,
            role=Enrolment.Role.MENTOR,
            user=UserFactory(email="rhea@example.org", display_name="Rhea Mentor"),
        ),
        sent_at=NOW - dt.timedelta(days=4),
    )
    invitation = InvitationFactory(cohort=matching_cohort, email="new.person@example.org")
    Invitation.objects.filter(pk=invitation.pk).update(created_at=NOW - dt.timedelta(days=6))
    return {
        "kiri_pair": kiri_pair,
        "quiet_pair": quiet_pair,
        "request": request,
        "invitation": invitation,
    }


def _recorded() -> set[tuple[str, str]]:
    return set(Notification.objects.values_list("kind", "email"))


EXPECTED = {
    # kiri_pair: Kiri's calendar is a day ahead, so her check-in is overdue, Baker's only due.
    (K.CHECK_IN_OVERDUE, "kiri@example.org"),
    (K.CHECK_IN_DUE, "baker@example.org"),
    (K.CHECK_IN_TO_CONFIRM, "kiri@example.org"),
    (K.MEETINGS_TO_RATE, "kiri@example.org"),
    (K.AGREEMENT_UNSIGNED, "kiri@example.org"),
    (K.GOAL_OVERDUE, "kiri@example.org"),
    (K.GOAL_DUE_SOON, "baker@example.org"),
    (K.SURVEY_UNANSWERED, "kiri@example.org"),
    (K.SURVEY_UNANSWERED, "baker@example.org"),
    # quiet_pair
    (K.CHECK_IN_OVERDUE, "quinn@example.org"),
    (K.CHECK_IN_OVERDUE, "lena@example.org"),
    (K.AGREEMENT_UNSIGNED, "quinn@example.org"),
    (K.AGREEMENT_UNSIGNED, "lena@example.org"),
    (K.SURVEY_UNANSWERED, "quinn@example.org"),
    (K.SURVEY_UNANSWERED, "lena@example.org"),
    (K.RELATIONSHIP_AT_RISK, "corinne.coordinator@example.org"),
    # the request and the invitation
    (K.REQUEST_UNANSWERED, "rhea@example.org"),
    (K.INVITATION_UNACCEPTED, "new.person@example.org"),
}


def test_it_records_each_rule_once(world, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        result = reminder_sweep()
    assert _recorded() == EXPECTED
    assert Notification.objects.count() == len(EXPECTED) == result.notified == result.due
    assert result.failed == []
    # Reminders wait for the daily email; the coordinator and the invited address hear now.
    urgent = Notification.objects.filter(delivery=Notification.Delivery.EMAIL_NOW)
    assert set(urgent.values_list("kind", flat=True)) == {
        K.RELATIONSHIP_AT_RISK,
        K.INVITATION_UNACCEPTED,
    }
    assert not Notification.objects.filter(
        delivery=Notification.Delivery.EMAIL_DAILY, outbound_email__isnull=False
    ).exists()
    assert sorted(m.to[0] for m in mailoutbox) == [
        "corinne.coordinator@example.org",
        "new.person@example.org",
    ]
    at_risk = next(m for m in mailoutbox if m.to == ["corinne.coordinator@example.org"])
    assert "Quinn Mentee, Lena Mentor" in at_risk.body
    assert "days since the start, with no check-in yet" in at_risk.body
    quiet = world["quiet_pair"]
    assert f"/relationships/{quiet.pk}/" in at_risk.body
    invite = next(m for m in mailoutbox if m.to == ["new.person@example.org"])
    assert world["invitation"].token in invite.body
    # Keys carry the rule, the object and the period.
    kiri_pair = world["kiri_pair"]
    overdue = Notification.objects.get(kind=K.GOAL_OVERDUE)
    assert overdue.key.endswith(":overdue-2026-03-02")
    survey = Notification.objects.get(kind=K.SURVEY_UNANSWERED, email="kiri@example.org")
    assert survey.key.startswith(f"survey-unanswered:matching.relationship:{kiri_pair.pk}:")
    assert survey.url == f"/relationships/{kiri_pair.pk}/survey/midpoint/"


def test_running_the_sweep_twice_sends_nothing_twice(
    world, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        reminder_sweep_task()
    counts = (Notification.objects.count(), OutboundEmail.objects.count(), len(mailoutbox))
    with django_capture_on_commit_callbacks(execute=True):
        again = reminder_sweep()
    assert (again.notified, again.already, again.due) == (0, len(EXPECTED), len(EXPECTED))
    assert (Notification.objects.count(), OutboundEmail.objects.count(), len(mailoutbox)) == counts


def test_two_sweeps_at_once_record_each_reminder_once(
    world, monkeypatch, django_capture_on_commit_callbacks, mailoutbox
):
    """The second sweep read before the first committed: it does not know the keys, tries to
    record every reminder, and the unique key refuses each one."""
    reminder_sweep()
    monkeypatch.setattr(sweep_module, "recorded_keys", lambda *, keys: set())
    with django_capture_on_commit_callbacks(execute=True):
        again = reminder_sweep()
    assert (again.notified, again.already, again.failed) == (0, len(EXPECTED), [])
    assert Notification.objects.count() == len(EXPECTED)
    assert mailoutbox == []


def test_a_failure_for_one_person_does_not_stop_the_others(world, monkeypatch):
    real_notify = sweep_module.notify
    real_prepare = sweep_module.notification_prepare

    def failing_for_kiri(real):
        def call(**kwargs):
            recipient = kwargs["recipient"]
            if getattr(recipient, "email", recipient) == "kiri@example.org":
                raise RuntimeError("mailbox unavailable")
            return real(**kwargs)

        return call

    # Urgent reminders go through notify(), the others are prepared for the daily email.
    monkeypatch.setattr(sweep_module, "notify", failing_for_kiri(real_notify))
    monkeypatch.setattr(sweep_module, "notification_prepare", failing_for_kiri(real_prepare))
    result = reminder_sweep()
    kiri_expected = {e for e in EXPECTED if e[1] == "kiri@example.org"}
    assert len(result.failed) == len(kiri_expected)
    assert _recorded() == EXPECTED - kiri_expected

    monkeypatch.setattr(sweep_module, "notify", real_notify)
    monkeypatch.setattr(sweep_module, "notification_prepare", real_prepare)
    retry = reminder_sweep()
    assert retry.notified == len(kiri_expected)
    assert _recorded() == EXPECTED


def test_the_daily_email_goes_at_eight_on_each_persons_own_clock(
    world, clock, django_capture_on_commit_callbacks, mailoutbox
):
    reminder_sweep()
    mailoutbox.clear()
    sent_at: dict[str, list[dt.datetime]] = {}
    # Every hour for a day and a half, twice each hour (beat may run the task twice).
    for hour in range(36):
        moment = NOW + dt.timedelta(hours=hour)
        clock.move_to(moment, tick=False)
        for _ in range(2):
            before = len(mailoutbox)
            with django_capture_on_commit_callbacks(execute=True):
                daily_digest_send_task()
            for message in mailoutbox[before:]:
                sent_at.setdefault(message.to[0], []).append(moment)
    # Kiri's 8:00 is 18:00 UTC the day before; Baker's is 20:00 UTC the same day.
    assert sent_at["kiri@example.org"] == [dt.datetime(2026, 3, 2, 18, tzinfo=UTC)]
    assert sent_at["baker@example.org"] == [dt.datetime(2026, 3, 2, 20, tzinfo=UTC)]
    # The Londoners' 8:00 was before the reminders existed: theirs goes the next morning.
    assert sent_at["quinn@example.org"] == [dt.datetime(2026, 3, 3, 8, tzinfo=UTC)]

    kiri_email = next(m for m in mailoutbox if m.to == ["kiri@example.org"])
    kiri_items = Notification.objects.filter(
        email="kiri@example.org", delivery=Notification.Delivery.EMAIL_DAILY
    )
    assert kiri_email.subject == f"{kiri_items.count()} reminders for Tuesday 3 March"
    for item in kiri_items:
        assert item.title in kiri_email.body
        assert item.url in kiri_email.body
    assert "List-Unsubscribe" in kiri_email.extra_headers
    html = str(kiri_email.alternatives[0][0])
    for item in kiri_items:
        assert f'href="{settings.SITE_URL}{item.url}"' in html
    # One bundle each, recorded as the person's daily-digest notification.
    assert Notification.objects.filter(kind=K.DAILY_DIGEST, email="kiri@example.org").count() == 1


def test_a_reminder_after_the_bundle_waits_for_the_next_one(
    world, clock, django_capture_on_commit_callbacks, mailoutbox
):
    reminder_sweep()
    clock.move_to(dt.datetime(2026, 3, 2, 18, tzinfo=UTC), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert daily_digest_send().sent == 1  # Kiri
    [first] = [m for m in mailoutbox if m.to == ["kiri@example.org"]]
    # A new goal falls due later that (Kiri's) day: it joins the next day's bundle, alone.
    late_goal = GoalFactory(
        relationship=world["kiri_pair"],
        owner=_member(world["kiri_pair"], "mentee"),
        title="Shadow a negotiation",
        target_date=dt.date(2026, 3, 5),
    )
    clock.move_to(dt.datetime(2026, 3, 2, 22, tzinfo=UTC), tick=False)
    reminder_sweep()
    clock.move_to(dt.datetime(2026, 3, 3, 18, tzinfo=UTC), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        daily_digest_send()
    kiri_emails = [m for m in mailoutbox if m.to == ["kiri@example.org"]]
    assert len(kiri_emails) == 2
    second = kiri_emails[1]
    assert "Shadow a negotiation" in second.subject
    assert "Shadow a negotiation" not in first.body
    assert late_goal.title not in first.subject


def test_the_sweep_reads_in_a_fixed_number_of_queries(
    clock, program, coordinator, active_cohort, django_assert_num_queries
):
    """Absolute pin, at two sizes: a second sweep over relationships with every rule due (all
    recorded already) costs the same however many relationships there are."""
    for size in (2, 5):
        while len(RelationshipMember.objects.filter(role="mentee")) < size:
            n = RelationshipMember.objects.filter(role="mentee").count()
            pair = _pair(
                active_cohort,
                f"Mentee{n} Person",
                f"Mentor{n} Person",
                ("Pacific/Kiritimati", "Etc/GMT+12"),
                started_at=dt.datetime(2026, 2, 1, 12, tzinfo=UTC),
            )
            GoalFactory(relationship=pair, target_date=dt.date(2026, 3, 1))
            CheckInFactory(relationship=pair, met_on=dt.date(2026, 2, 20))
        first = reminder_sweep()
        assert first.notified > 0
        # relationships 1, their cohorts and programs 1, coordinators 1, members with their
        # people 1, agreements 1, signatures 1, meetings 1, pulses to rate 1, check-ins 1,
        # goals 1, surveys 1, health's recent pulses 1 and survey averages 1, recorded keys 1,
        # then an empty batch 1; requests 1, invitations 1.
        with django_assert_num_queries(17):
            again = reminder_sweep()
        assert again.notified == 0
        assert again.already == first.due


def test_the_coordinator_summary_goes_on_monday_at_eight_once(
    world, clock, program, active_cohort, django_capture_on_commit_callbacks, mailoutbox
):
    EnrolmentFactory(
        cohort=CohortFactory(program=program, status=Cohort.Status.ENROLLING),
        status=Enrolment.Status.APPLIED,
    )
    EnrolmentFactory(cohort=active_cohort, status=Enrolment.Status.APPROVED)  # unmatched
    SurveyResponse.objects.create(
        relationship=world["kiri_pair"],
        author=_member(world["kiri_pair"], "mentee"),
        stage=SurveyResponse.Stage.MIDPOINT,
    )
    clock.move_to(dt.datetime(2026, 3, 2, 7, tzinfo=UTC), tick=False)
    assert coordinator_digest_send() == 0  # 7:00 in London
    clock.move_to(dt.datetime(2026, 3, 2, 8, tzinfo=UTC), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert coordinator_digest_send() == 1
        assert coordinator_digest_send() == 0
    [email] = mailoutbox
    assert email.to == ["corinne.coordinator@example.org"]
    assert email.subject == "Your weekly summary: 1 at risk, 1 to approve"
    assert "Quinn Mentee, Lena Mentor" in email.body
    assert "Applications waiting for approval: 1" in email.body
    # The newcomer, and the mentee and mentor of the request in the cohort still matching.
    assert "People not matched yet: 3" in email.body
    # One of four members answered the midpoint survey: 25%, below the default 60%.
    assert "midpoint (25%)" in email.body
    clock.move_to(dt.datetime(2026, 3, 3, 8, tzinfo=UTC), tick=False)
    assert coordinator_digest_send() == 0  # Tuesday


def test_a_pending_request_that_was_answered_is_not_reminded(world):
    MentorRequest.objects.filter(pk=world["request"].pk).update(
        status=MentorRequest.Status.ACCEPTED
    )
    reminder_sweep()
    assert not Notification.objects.filter(kind=K.REQUEST_UNANSWERED).exists()


def _pairs_in_range(cohort: Cohort, count: int) -> list:
    pairs = []
    for n in range(count):
        pair = _pair(
            cohort,
            f"Parted{n} Mentee",
            f"Parter{n} Mentor",
            ("Europe/London", "Asia/Kolkata"),
            started_at=dt.datetime(2026, 1, 20, 9, tzinfo=UTC),
        )
        GoalFactory(relationship=pair, target_date=dt.date(2026, 3, 1))
        pairs.append(pair)
    return pairs


def test_a_large_sweep_is_cut_into_parts_that_together_remind_everyone_once(
    world, monkeypatch, active_cohort, django_capture_on_commit_callbacks, mailoutbox
):
    """The periodic task hands a large organisation's sweep to the workers in parts (here of
    two relationships); the parts together record exactly what one sweep would."""
    _pairs_in_range(active_cohort, 3)
    monkeypatch.setattr(sweep_module, "PART_SIZE", 2)
    parts = sweep_module.reminder_sweep_parts(now=NOW)
    assert len(parts) == 3  # five relationships, two a part
    assert [p.requests_and_invitations for p in parts] == [True, False, False]
    assert all(a.last < b.first for a, b in itertools.pairwise(parts))

    with django_capture_on_commit_callbacks(execute=True):
        outcome = reminder_sweep_task()
    assert outcome == {"parts": 3, "published": 3}
    recorded = Notification.objects.count()
    assert _recorded() >= EXPECTED
    assert {"parted0@example.org", "parted2@example.org"} <= {e for _, e in _recorded()}
    # The same moment swept whole finds everything recorded already.
    again = reminder_sweep()
    assert (again.notified, again.already) == (0, recorded)


def test_a_small_sweep_runs_in_the_task_itself(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        outcome = reminder_sweep_task()
    assert outcome == {"due": len(EXPECTED), "notified": len(EXPECTED), "failed": 0}


def test_the_sweep_judges_health_as_the_pages_do(clock, program, active_cohort):
    """The loader reads the facts once for the rules and for health; the at-risk reminder must
    agree with the health the relationship page shows, pair by pair."""
    from goals.reminders import relationship_batches
    from goals.selectors import health_for

    pairs = _pairs_in_range(active_cohort, 2)
    quiet = _pair(
        active_cohort,
        "Silent Mentee",
        "Distant Mentor",
        ("UTC", "UTC"),
        started_at=dt.datetime(2025, 12, 1, 9, tzinfo=UTC),
    )
    met = _pair(
        active_cohort,
        "Keen Mentee",
        "Able Mentor",
        ("UTC", "UTC"),
        started_at=dt.datetime(2026, 2, 1, 9, tzinfo=UTC),
    )
    AgreementFactory(relationship=met, meeting_cadence_days=7, duration_weeks=8)
    CheckInFactory(relationship=met, met_on=dt.date(2026, 2, 27))
    GoalFactory(relationship=met, progress=90, target_date=dt.date(2026, 4, 1))
    relationships = [*pairs, quiet, met]
    for r in relationships:
        r.refresh_from_db()
    pages = health_for(relationships=relationships, today=NOW.date())
    swept = {
        facts.id: (facts.health_status, facts.health_reasons)
        for batch in relationship_batches(now=NOW)
        for facts in batch.snapshot.relationships
    }
    assert swept == {pk: (h.status, h.reasons) for pk, h in pages.items()}
    assert {status for status, _ in swept.values()} >= {"at_risk", "on_track"}
