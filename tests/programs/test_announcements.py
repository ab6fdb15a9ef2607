"""Announcements: a coordinator writes to a cohort or one role in it, confirms who reads it, and
a worker delivers it to each recipient's notification centre and inbox, once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.models import Notification, OutboundEmail
from notifications.services import notification_preferences_update
from programs import services
from programs.models import Announcement, Enrolment
from programs.services import announcements as module
from programs.tasks import announcement_deliver_task
from tests.factories import AnnouncementFactory, EnrolmentFactory, UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "form-token-1"


@pytest.fixture
def second_mentee(cohort):
    """Another approved mentee of `cohort`: reads what is written to the mentees."""
    user = UserFactory(email="mina.mentee@example.org", display_name="Mina Mentee")
    EnrolmentFactory(cohort=cohort, user=user, role="mentee")
    return user


@pytest.fixture
def applicant(cohort):
    """Applied, not approved: reads no announcement."""
    user = UserFactory(email="abe.applicant@example.org", display_name="Abe Applicant")
    EnrolmentFactory(cohort=cohort, user=user, role="mentee", status=Enrolment.Status.APPLIED)
    return user


def form_data(**overrides: str) -> dict[str, str]:
    data = {
        "role": "mentee",
        "subject": "Kick-off on Monday",
        "body": "We meet at 10:00 in the main hall.\n\nBring one question for your mentor.",
        "token": TOKEN,
    }
    data.update(overrides)
    return data


def test_it_delivers_to_the_mentees_only_in_the_app_and_by_email(
    client,
    sign_in,
    cohort,
    mentor,
    mentee,
    second_mentee,
    applicant,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    sign_in("coordinator")
    create_url = reverse("programs:announcement_create", args=[cohort.pk])

    confirm = client.post(create_url, form_data())

    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert (
        "Everyone in Spring who is a mentee reads this, in their notifications and by email" in page
    )
    assert "Send to 2 people" in page
    assert not Announcement.objects.exists(), "nothing is sent before the confirmation"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(create_url, {**form_data(), "confirm": "1"})

    announcement = Announcement.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("programs:announcement_detail", args=[announcement.pk])
    assert announcement.status == Announcement.Status.SENT
    assert (announcement.delivered, announcement.total) == (2, 2)
    notifications = Notification.objects.filter(kind=Notification.Kind.ANNOUNCEMENT)
    assert {n.recipient for n in notifications} == {mentee, second_mentee}
    assert {n.url for n in notifications} == {response["Location"]}
    assert {n.title for n in notifications} == {"Kick-off on Monday · Leadership Mentoring"}
    assert sorted(m.to[0] for m in mailoutbox) == sorted([mentee.email, second_mentee.email])
    assert "Bring one question for your mentor." in mailoutbox[0].body
    assert "Corinne Coordinator wrote to the mentees in Leadership Mentoring — Spring" in (
        mailoutbox[0].body
    )


def test_a_double_submit_sends_one_announcement(
    client, sign_in, cohort, mentee, mailoutbox, django_capture_on_commit_callbacks
):
    sign_in("coordinator")
    create_url = reverse("programs:announcement_create", args=[cohort.pk])

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(create_url, {**form_data(), "confirm": "1"})
        second = client.post(create_url, {**form_data(), "confirm": "1"})

    assert Announcement.objects.count() == 1
    assert first["Location"] == second["Location"]
    assert Notification.objects.filter(recipient=mentee).count() == 1
    assert len(mailoutbox) == 1


def test_running_the_task_twice_delivers_once(
    cohort, mentor, mentee, second_mentee, mailoutbox, django_capture_on_commit_callbacks
):
    announcement = AnnouncementFactory(cohort=cohort)

    with django_capture_on_commit_callbacks(execute=True):
        assert announcement_deliver_task(announcement_id=announcement.pk) == "sent"
        assert announcement_deliver_task(announcement_id=announcement.pk) == "sent"

    announcement.refresh_from_db()
    assert (announcement.delivered, announcement.total) == (3, 3)
    assert Notification.objects.filter(kind=Notification.Kind.ANNOUNCEMENT).count() == 3
    assert len(mailoutbox) == 3


def test_a_failed_delivery_is_recorded_and_a_second_run_completes_it(
    cohort, mentor, mentee, second_mentee, monkeypatch, django_capture_on_commit_callbacks
):
    announcement = AnnouncementFactory(cohort=cohort)
    real_notify_many = module.notify_many

    def notify_failing_on_the_second(*, messages):
        if len(messages) >= 2:
            real_notify_many(messages=messages[:1])
            raise RuntimeError("mail template broke")
        return real_notify_many(messages=messages)

    monkeypatch.setattr(module, "notify_many", notify_failing_on_the_second)
    failed = services.announcement_deliver(announcement_id=announcement.pk)

    assert failed.status == Announcement.Status.FAILED
    assert "mail template broke" in failed.error
    assert failed.delivered == 0
    assert not Notification.objects.exists(), "the batch rolled back as one"

    monkeypatch.setattr(module, "notify_many", real_notify_many)
    done = services.announcement_deliver(announcement_id=announcement.pk)

    assert done.status == Announcement.Status.SENT
    assert (done.delivered, done.total) == (3, 3)
    assert Notification.objects.count() == 3


def test_a_recipient_who_turned_announcements_off_gets_it_in_the_app_only(
    cohort, mentee, mailoutbox, django_capture_on_commit_callbacks
):
    notification_preferences_update(user=mentee, email_kinds=set())
    announcement = AnnouncementFactory(cohort=cohort)

    with django_capture_on_commit_callbacks(execute=True):
        services.announcement_deliver(announcement_id=announcement.pk)

    notification = Notification.objects.get(recipient=mentee)
    assert notification.delivery == Notification.Delivery.IN_APP
    assert mailoutbox == []
    assert not OutboundEmail.objects.exists()


def test_the_progress_page_shows_how_many_have_it(client, sign_in, cohort, mentee, second_mentee):
    sign_in("coordinator")
    announcement = AnnouncementFactory(cohort=cohort, role="mentee")
    progress_url = reverse("programs:announcement_progress", args=[announcement.pk])

    queued = client.get(progress_url).content.decode()
    assert "Waiting for a worker" in queued
    assert 'hx-trigger="every 1s"' in queued

    services.announcement_deliver(announcement_id=announcement.pk)
    done = client.get(progress_url).content.decode()
    assert "Delivered to 2 of 2." in done
    assert "hx-get" not in done, "a finished delivery stops polling"
    detail = client.get(reverse("programs:announcement_detail", args=[announcement.pk]))
    assert "Delivered to 2 of 2." in detail.content.decode()


def test_the_cohort_lists_its_announcements_for_its_coordinators(client, sign_in, cohort, mentee):
    sign_in("coordinator")
    AnnouncementFactory(cohort=cohort, subject="Welcome to Spring")
    AnnouncementFactory(subject="Somebody else's news")

    response = client.get(reverse("programs:announcement_list", args=[cohort.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Welcome to Spring" in page
    assert "Somebody else&#x27;s news" not in page
    assert "Queued" in page
    assert (
        reverse("programs:announcement_list", args=[cohort.pk])
        in client.get(reverse("programs:cohort_detail", args=[cohort.pk])).content.decode()
    )


@pytest.mark.parametrize("persona", ["other_coordinator", "outsider", "mentee"])
def test_only_the_cohorts_coordinators_may_write_or_follow_delivery(
    client, sign_in, cohort, mentee, persona
):
    sign_in(persona)
    announcement = AnnouncementFactory(cohort=cohort)

    assert client.get(reverse("programs:announcement_list", args=[cohort.pk])).status_code == 404
    create = client.post(
        reverse("programs:announcement_create", args=[cohort.pk]), {**form_data(), "confirm": "1"}
    )
    assert create.status_code == 404
    progress = client.get(reverse("programs:announcement_progress", args=[announcement.pk]))
    assert progress.status_code == 404
    assert Announcement.objects.count() == 1


@pytest.mark.parametrize(
    ("persona", "status"),
    [("mentee", 200), ("mentor", 404), ("other_coordinator", 404), ("outsider", 404)],
)
def test_an_announcement_is_read_by_those_it_was_written_to(
    client, sign_in, cohort, mentor, mentee, persona, status
):
    announcement = AnnouncementFactory(cohort=cohort, role="mentee", subject="Mentees' lunch")
    sign_in(persona)

    response = client.get(reverse("programs:announcement_detail", args=[announcement.pk]))

    assert response.status_code == status
    if status == 200:
        page = response.content.decode()
        assert "Mentees&#x27; lunch" in page
        assert "Bring your questions." in page
        assert "Delivery" not in page, "recipients do not follow delivery"


def test_it_refuses_a_role_the_program_does_not_take_and_an_empty_audience(
    client, sign_in, cohort, mentor
):
    sign_in("coordinator")
    create_url = reverse("programs:announcement_create", args=[cohort.pk])

    peer = client.post(create_url, {**form_data(role="peer"), "confirm": "1"})
    nobody = client.post(create_url, {**form_data(role="mentee"), "confirm": "1"})

    assert peer.status_code == 400
    assert "peer is not one of the available choices" in peer.content.decode()
    assert nobody.status_code == 400
    assert services.ANNOUNCEMENT_NOBODY in nobody.content.decode()
    assert not Announcement.objects.exists()


def test_the_confirmation_can_go_back_to_the_filled_form(client, sign_in, cohort, mentee):
    sign_in("coordinator")

    response = client.post(
        reverse("programs:announcement_create", args=[cohort.pk]), {**form_data(), "edit": "1"}
    )

    assert response.status_code == 200
    assert response.context["form"]["subject"].value() == "Kick-off on Monday"
    assert response.context["form"]["token"].value() == TOKEN
    assert not Announcement.objects.exists()


def test_the_list_runs_the_same_queries_however_many_announcements(client, sign_in, cohort):
    sign_in("coordinator")
    url = reverse("programs:announcement_list", args=[cohort.pk])
    AnnouncementFactory(cohort=cohort)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    AnnouncementFactory.create_batch(6, cohort=cohort)
    with CaptureQueriesContext(connection) as many:
        client.get(url)

    assert len(many) == len(few)
