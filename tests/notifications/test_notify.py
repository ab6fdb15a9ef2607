"""notify(), the one way out for every message: rendered in the recipient's own time zone,
recorded in their notification centre, emailed once per key, and what every app's events now
go through. The clock is frozen so times in the emails are exact."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from goals import services as goals_services
from goals.models import CheckIn
from matching import services as matching_services
from matching.models import MentorRequest, Relationship, RelationshipMember
from notifications.models import Notification, NotificationPreference, OutboundEmail
from notifications.services import notify
from programs import services as programs_services
from programs.models import Cohort
from tests.factories import (
    AgreementFactory,
    AgreementSignatureFactory,
    CheckInFactory,
    InvitationFactory,
    MentorRequestFactory,
    RelationshipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# Winter in New York (UTC-5), so the offsets below hold.
NOW = dt.datetime(2026, 1, 14, 12, 0, tzinfo=dt.UTC)
NEXT_MEETING = dt.datetime(2026, 1, 20, 19, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def pair(cohort, mentor, mentee) -> Relationship:
    """Maya mentors Mo (both in Europe/London unless a test moves one); started 30 days ago."""
    cohort.status = Cohort.Status.ACTIVE
    cohort.save(update_fields=["status"])
    return RelationshipFactory(cohort=cohort, mentor=mentor, mentee=mentee)


def member(relationship: Relationship, role: str) -> RelationshipMember:
    return relationship.members.select_related("enrolment__user").get(role=role)


def log_check_in(relationship: Relationship, **extra: object) -> CheckIn:
    """Mo logs yesterday's meeting, with the next one set for NEXT_MEETING."""
    fields: dict = {
        "met_on": NOW.date() - dt.timedelta(days=1),
        "duration_minutes": 45,
        "mode": CheckIn.Mode.VIDEO,
        "summary": "We rehearsed the board presentation.",
        "next_meeting_at": NEXT_MEETING,
        **extra,
    }
    return goals_services.check_in_log(
        relationship=relationship, member=member(relationship, "mentee"), **fields
    )


def kinds_for(user) -> list[str]:
    return sorted(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


# --- The recipient's own time zone --------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "local"),
    [
        ("America/New_York", "20 January 2026, 14:00"),
        ("Pacific/Kiritimati", "21 January 2026, 09:00"),  # UTC+14: already the next day
        ("Etc/GMT+12", "20 January 2026, 07:00"),  # UTC-12 (the POSIX sign is inverted)
    ],
)
def test_it_shows_the_next_meeting_in_the_partners_own_time_zone(
    pair, mentor, zone, local, mailoutbox, django_capture_on_commit_callbacks
):
    mentor.time_zone = zone
    mentor.save(update_fields=["time_zone"])

    with django_capture_on_commit_callbacks(execute=True):
        log_check_in(pair)

    [email] = mailoutbox
    assert email.to == [mentor.email]
    html = email.alternatives[0][0]
    for body in (email.body, html):
        assert f"Next meeting: {local} ({zone})" in body
        assert "19:00" not in body
        assert "(UTC)" not in body


def test_it_renders_for_each_recipient_not_for_the_sender(
    pair, mentor, mentee, mailoutbox, django_capture_on_commit_callbacks
):
    mentee.time_zone = "Pacific/Kiritimati"  # the one who logs the meeting
    mentee.save(update_fields=["time_zone"])
    mentor.time_zone = "America/New_York"
    mentor.save(update_fields=["time_zone"])

    with django_capture_on_commit_callbacks(execute=True):
        log_check_in(pair)

    [email] = mailoutbox
    assert "Next meeting: 20 January 2026, 14:00 (America/New_York)" in email.body
    assert "Pacific/Kiritimati" not in email.body


def test_it_gives_an_address_without_an_account_the_site_time_zone_and_names_it(
    cohort, coordinator, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = programs_services.invitation_create(
            cohort=cohort, email="new.person@example.org", role="mentee", invited_by=coordinator
        )

    [email] = mailoutbox
    expires = invitation.expires_at.astimezone(dt.UTC).strftime("%H:%M")
    assert f", {expires} (UTC)" in email.body


# --- Once per key ----------------------------------------------------------------------------


def test_it_records_and_sends_once_when_notified_twice_about_the_same_thing(
    pair, mentor, mailoutbox, django_capture_on_commit_callbacks
):
    check_in = CheckInFactory(relationship=pair, next_meeting_at=NEXT_MEETING)
    logged_by = member(pair, "mentee").enrolment.user

    def notify_mentor() -> Notification | None:
        return notify(
            kind=Notification.Kind.CHECK_IN_LOGGED,
            recipient=mentor,
            about=check_in,
            context={"check_in": check_in, "logged_by": logged_by},
            url=reverse("goals:relationship_home", args=[pair.pk]),
        )

    with django_capture_on_commit_callbacks(execute=True):
        first = notify_mentor()
        second = notify_mentor()

    assert first is not None
    assert second is None
    assert Notification.objects.count() == 1
    assert OutboundEmail.objects.count() == 1
    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject == first.title


def test_it_notifies_each_change_of_the_agreement_once(
    pair, mentor, mentee, mailoutbox, django_capture_on_commit_callbacks
):
    agreement = AgreementFactory(relationship=pair)
    mo = member(pair, "mentee")
    maya = member(pair, "mentor")

    def edit(text: str) -> None:
        # Maya has signed the current version, so Mo's edit asks her to sign again.
        AgreementSignatureFactory(agreement=agreement, member=maya, version=agreement.version)
        goals_services.agreement_update(
            agreement=agreement,
            member=mo,
            base_version=agreement.version,
            text=text,
            meeting_cadence_days=14,
            meeting_mode="video",
            duration_weeks=26,
        )
        agreement.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        edit("We meet every two weeks.")
        edit("We meet every week.")

    changed = Notification.objects.filter(kind=Notification.Kind.AGREEMENT_CHANGED)
    assert [n.recipient for n in changed] == [mentor, mentor]
    assert len({n.key for n in changed}) == 2
    assert [m.to for m in mailoutbox] == [[mentor.email], [mentor.email]]
    assert "now version 3" in mailoutbox[1].body


# --- Every event goes through notify() ---------------------------------------------------------


def test_it_records_an_invitation_to_an_address_without_an_account_for_nobody(
    cohort, coordinator, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = programs_services.invitation_create(
            cohort=cohort, email="New.Person@Example.org", role="mentee", invited_by=coordinator
        )

    notification = Notification.objects.get()
    assert notification.kind == Notification.Kind.INVITATION
    assert notification.recipient is None
    assert notification.email == "new.person@example.org"
    assert invitation.token not in notification.url, "the link's secret is never stored"
    [email] = mailoutbox
    assert email.to == ["new.person@example.org"]
    assert invitation.token in email.body


def test_it_puts_an_invitation_in_the_centre_of_someone_who_has_an_account(
    cohort, coordinator, outsider, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        programs_services.invitation_create(
            cohort=cohort, email=outsider.email.upper(), role="mentee", invited_by=coordinator
        )

    assert kinds_for(outsider) == [Notification.Kind.INVITATION]


def test_it_notifies_each_coordinator_once_of_a_renewal_request(
    cohort, program, coordinator, other_coordinator, mailoutbox, django_capture_on_commit_callbacks
):
    program.coordinators.add(other_coordinator)
    invitation = InvitationFactory(cohort=cohort, expires_at=NOW - dt.timedelta(days=1))

    with django_capture_on_commit_callbacks(execute=True):
        programs_services.invitation_request_renewal(invitation=invitation)
        programs_services.invitation_request_renewal(invitation=invitation)

    for person in (coordinator, other_coordinator):
        [notification] = Notification.objects.filter(recipient=person)
        assert notification.kind == Notification.Kind.INVITATION_RENEWAL_REQUEST
        assert notification.url == reverse("programs:invitation_list", args=[cohort.pk])
    assert sorted(m.to for m in mailoutbox) == [[coordinator.email], [other_coordinator.email]]


def test_it_records_the_check_in_for_the_partner_only(
    pair, mentor, mentee, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        check_in = log_check_in(pair)

    [notification] = Notification.objects.all()
    assert notification.recipient == mentor
    assert notification.kind == Notification.Kind.CHECK_IN_LOGGED
    assert f"goals.checkin:{check_in.pk}" in notification.key
    assert notification.url == reverse("goals:relationship_home", args=[pair.pk])
    assert kinds_for(mentee) == []


@pytest.mark.parametrize(
    ("end", "kind"),
    [
        ("end_early", Notification.Kind.RELATIONSHIP_ENDED),
        ("close", Notification.Kind.RELATIONSHIP_CLOSED),
    ],
)
def test_it_tells_every_member_once_that_the_relationship_ended(
    pair, mentor, mentee, coordinator, end, kind, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        if end == "end_early":
            matching_services.relationship_end_early(
                relationship=pair, reason="Changed jobs.", ended_by=coordinator
            )
        else:
            matching_services.relationship_close(
                relationship=pair, outcome=Relationship.Outcome.ACHIEVED, closed_by=coordinator
            )

    assert kinds_for(mentor) == [kind]
    assert kinds_for(mentee) == [kind]
    assert sorted(m.to[0] for m in mailoutbox) == sorted([mentor.email, mentee.email])


def test_it_tells_both_members_of_a_new_pair_once(
    cohort, mentor, mentee, mailoutbox, django_capture_on_commit_callbacks
):
    relationship = RelationshipFactory(cohort=cohort, mentor=mentor, mentee=mentee)

    with django_capture_on_commit_callbacks(execute=True):
        matching_services.relationship_notify_start(relationship=relationship)
        matching_services.relationship_notify_start(relationship=relationship)

    for person in (mentor, mentee):
        [notification] = Notification.objects.filter(recipient=person)
        assert notification.kind == Notification.Kind.MATCH_PUBLISHED
        assert notification.url == reverse("goals:relationship_home", args=[relationship.pk])
    assert len(mailoutbox) == 2
    assert f"/relationships/{relationship.pk}/" in mailoutbox[0].body


@pytest.fixture
def asked(program) -> MentorRequest:
    """Mo's request to Maya, waiting for her answer in a self-service cohort that is matching."""
    program.mentees_may_request = True
    program.save(update_fields=["mentees_may_request"])
    cohort = Cohort.objects.create(
        program=program,
        name="Autumn",
        status=Cohort.Status.MATCHING,
        starts_on=NOW.date() + dt.timedelta(days=14),
        ends_on=NOW.date() + dt.timedelta(weeks=26),
    )
    return MentorRequestFactory(
        cohort=cohort,
        mentee__user=UserFactory(email="mo.mentee@example.org", display_name="Mo Mentee"),
        mentor__user=UserFactory(email="maya.mentor@example.org", display_name="Maya Mentor"),
    )


def test_it_tells_the_mentor_of_a_request_and_the_mentee_of_the_answer(
    asked, django_capture_on_commit_callbacks
):
    mentee, mentor = asked.mentee, asked.mentor
    with django_capture_on_commit_callbacks(execute=True):
        asked.delete()
        matching_services.mentor_request_create(mentee=mentee, mentors=[mentor])
        request = MentorRequest.objects.get(mentee=mentee)
        matching_services.mentor_request_accept(request=request, by_user=mentor.user)

    assert kinds_for(mentor.user) == [Notification.Kind.MENTOR_REQUEST]
    assert kinds_for(mentee.user) == [Notification.Kind.MENTOR_REQUEST_ACCEPTED]
    assert Notification.objects.get(recipient=mentor.user).url == reverse("matching:request_inbox")


def test_it_notifies_each_question_and_answer_about_a_request(
    asked, mailoutbox, django_capture_on_commit_callbacks
):
    mentor, mentee = asked.mentor.user, asked.mentee.user

    with django_capture_on_commit_callbacks(execute=True):
        for question in ("Which board?", "Which board?", "When is it?"):
            matching_services.mentor_request_ask(request=asked, by_user=mentor, question=question)
        matching_services.mentor_request_answer(request=asked, by_user=mentee, answer="In May.")

    questions = Notification.objects.filter(kind=Notification.Kind.MENTOR_REQUEST_QUESTION)
    assert [n.recipient for n in questions] == [mentee, mentee], "the same question once"
    assert kinds_for(mentor) == [Notification.Kind.MENTOR_REQUEST_ANSWERED]
    assert len(mailoutbox) == 3


def test_it_tells_the_mentee_no_choice_is_left_again_in_each_new_round(
    asked, django_capture_on_commit_callbacks
):
    mentor, mentee = asked.mentor, asked.mentee

    def expire_all() -> None:
        MentorRequest.objects.filter(mentee=mentee).update(respond_by=NOW - dt.timedelta(minutes=1))
        assert matching_services.mentor_request_expire_due() == 1
        assert matching_services.mentor_request_expire_due() == 0  # a second sweep: nothing

    with django_capture_on_commit_callbacks(execute=True):
        expire_all()
    assert kinds_for(mentee.user) == [
        Notification.Kind.MENTOR_REQUEST_EXPIRED,
        Notification.Kind.MENTOR_REQUEST_NONE_LEFT,
    ]

    # Mo chooses the same mentor again (a new request) and runs out again: told again.
    with django_capture_on_commit_callbacks(execute=True):
        matching_services.mentor_request_create(mentee=mentee, mentors=[mentor])
        expire_all()

    assert kinds_for(mentee.user).count(Notification.Kind.MENTOR_REQUEST_EXPIRED) == 2
    assert kinds_for(mentee.user).count(Notification.Kind.MENTOR_REQUEST_NONE_LEFT) == 2


def test_it_tells_the_mentee_of_a_decline_once(asked, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        matching_services.mentor_request_decline(
            request=asked, by_user=asked.mentor.user, reason="I am away in May."
        )

    # The decline already invites them to choose again: no "none left" on top.
    assert kinds_for(asked.mentee.user) == [Notification.Kind.MENTOR_REQUEST_DECLINED]


# --- Preferences and unsubscribing ---------------------------------------------------------------


def test_it_keeps_a_kind_turned_off_in_the_app_and_sends_no_email(
    pair, mentor, mailoutbox, django_capture_on_commit_callbacks
):
    NotificationPreference.objects.create(
        user=mentor, kind=Notification.Kind.CHECK_IN_LOGGED, email=False
    )

    with django_capture_on_commit_callbacks(execute=True):
        log_check_in(pair)

    notification = Notification.objects.get(recipient=mentor)
    assert notification.delivery == Notification.Delivery.IN_APP
    assert notification.outbound_email is None
    assert mailoutbox == []


def test_it_emails_a_transactional_kind_whatever_the_preference_says(
    pair, mentor, coordinator, mailoutbox, django_capture_on_commit_callbacks
):
    # The settings page cannot make this row; an old or hand-made one must not silence it.
    NotificationPreference.objects.create(
        user=mentor, kind=Notification.Kind.RELATIONSHIP_ENDED, email=False
    )

    with django_capture_on_commit_callbacks(execute=True):
        matching_services.relationship_end_early(
            relationship=pair, reason="Changed jobs.", ended_by=coordinator
        )

    notification = Notification.objects.get(recipient=mentor)
    assert notification.delivery == Notification.Delivery.EMAIL_NOW
    assert mentor.email in [m.to[0] for m in mailoutbox]


def test_it_offers_one_click_unsubscribe_on_all_but_transactional_email(
    pair, mentor, coordinator, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        log_check_in(pair)
        matching_services.relationship_end_early(
            relationship=pair, reason="Changed jobs.", ended_by=coordinator
        )

    logged = Notification.objects.get(kind=Notification.Kind.CHECK_IN_LOGGED)
    assert logged.outbound_email is not None
    headers = logged.outbound_email.headers
    assert headers["List-Unsubscribe"].startswith("<http")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    message = next(m for m in mailoutbox if m.subject == logged.title)
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    for ended in Notification.objects.filter(kind=Notification.Kind.RELATIONSHIP_ENDED):
        assert ended.outbound_email is not None
        assert ended.outbound_email.headers == {}


def test_every_email_to_a_person_ends_with_its_unsubscribe_link_that_works_signed_out(
    pair, mentor, coordinator, client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        log_check_in(pair)
        matching_services.relationship_end_early(
            relationship=pair, reason="Changed jobs.", ended_by=coordinator
        )

    logged = next(m for m in mailoutbox if m.to == [mentor.email] and "logged" in m.body)
    link = next(
        line.split(": ", 1)[1]
        for line in logged.body.splitlines()
        if line.startswith("Stop emails like this one: ")
    )
    assert "Stop emails like this one" in logged.alternatives[0][0]
    assert "Choose which emails you get" in logged.body
    # A transactional email offers the settings, but no way to stop it.
    ended = next(m for m in mailoutbox if m.to == [mentor.email] and m is not logged)
    assert "Choose which emails you get" in ended.body
    assert "Stop emails like this one" not in ended.body

    assert client.post(link).status_code == 200
    assert (
        NotificationPreference.objects.get(
            user=mentor, kind=Notification.Kind.CHECK_IN_LOGGED
        ).email
        is False
    )


def test_it_leaves_no_app_to_render_and_queue_email_by_hand():
    """Only notify() and the account emails of allauth's adapter queue mail."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = [
        str(path.relative_to(root))
        for app in ("programs", "matching", "goals", "core", "reports")
        if (root / app).is_dir()
        for path in (root / app).rglob("*.py")
        if "email_render" in path.read_text() or "email_queue" in path.read_text()
    ]
    assert offenders == []


def test_a_name_with_an_apostrophe_reads_as_written_in_subjects_and_plain_text(
    django_capture_on_commit_callbacks, mailoutbox
):
    """Subjects and text bodies are plain text: no HTML escaping (O'Brien, not O&#x27;Brien);
    the HTML body still escapes."""
    recipient = UserFactory(display_name="Ann O'Brien & Co", time_zone="UTC")
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(
            kind=Notification.Kind.CHECK_IN_DUE,
            recipient=recipient,
            about=None,
            context={"partners": "Pat O'Brien & Sons"},
            url="/x/",
        )
    assert notification is not None
    assert notification.title == "Time to meet Pat O'Brien & Sons again"
    (email,) = mailoutbox
    assert email.subject == "Time to meet Pat O'Brien & Sons again"
    assert "&#x27;" not in email.body
    assert "&amp;" not in email.body
    html = email.alternatives[0][0]
    assert "O&#x27;Brien" in html or "O&#39;Brien" in html


def test_reminder_titles_follow_their_own_words_however_many_share_a_line():
    """Titles that come out the same are rendered once and remembered; a different value of a
    word the title uses still gives its own title, whoever it is for."""
    from notifications.services import notification_prepare

    people = UserFactory.create_batch(2, time_zone="Pacific/Kiritimati")

    def title(recipient, **context) -> str:
        return notification_prepare(
            kind=Notification.Kind.GOAL_DUE_SOON,
            recipient=recipient,
            about=None,
            context=context,
            url="/goals/",
            period="",
            email_refused=False,
        ).notification.title

    for person in people:
        assert title(person, goal_title="Speak up", days_left=0) == "“Speak up” is due today"
        assert title(person, goal_title="Speak up", days_left=1) == "“Speak up” is due tomorrow"
        assert title(person, goal_title="Speak up", days_left=3) == "“Speak up” is due in 3 days"
        assert title(person, goal_title="Listen", days_left=3) == "“Listen” is due in 3 days"
