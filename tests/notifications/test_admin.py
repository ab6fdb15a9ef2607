"""Notifications in the Django admin: read-only lists with search and filters in a fixed number
of queries, and resending an email that failed (never one that was sent: its body is gone)."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.models import Notification, OutboundEmail
from notifications.services import notification_resend
from tests.factories import (
    NotificationFactory,
    NotificationPreferenceFactory,
    OutboundEmailFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:notifications_notification_changelist")


def emailed(status: str, **fields) -> Notification:
    email = OutboundEmailFactory(status=status)
    return NotificationFactory(outbound_email=email, **fields)


def listed(client, **params) -> set[int]:
    response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    return {n.pk for n in response.context["cl"].result_list}


def test_it_lists_notifications_with_what_an_admin_needs(client, admin_user, mentee):
    emailed(OutboundEmail.Status.FAILED, recipient=mentee, title="Your check-in is overdue")
    client.force_login(admin_user)

    page = client.get(CHANGELIST).content.decode()

    for shown in ("Your check-in is overdue", "Mo Mentee", mentee.email, "Failed", "Email now"):
        assert shown in page
    assert "A meeting was logged" in page  # the kind's label


def test_it_searches_by_email_title_key_and_name(client, admin_user, mentee, mentor):
    mine = NotificationFactory(recipient=mentee, title="Goal due soon", key="goal-due-soon:7")
    other = NotificationFactory(recipient=mentor, title="Meeting logged")
    invited = NotificationFactory(recipient=None, email="new.person@example.org")
    client.force_login(admin_user)

    assert listed(client, q="Mo Mentee") == {mine.pk}
    assert listed(client, q="Goal due") == {mine.pk}
    assert listed(client, q="goal-due-soon:7") == {mine.pk}
    assert listed(client, q="maya.mentor") == {other.pk}
    assert listed(client, q="new.person@") == {invited.pk}


def test_it_filters_by_kind_delivery_read_and_email_status(client, admin_user, mentee):
    failed = emailed(OutboundEmail.Status.FAILED, recipient=mentee)
    sent = emailed(OutboundEmail.Status.SENT, recipient=mentee)
    in_app = NotificationFactory(
        recipient=mentee,
        kind=Notification.Kind.GOAL_OVERDUE,
        delivery=Notification.Delivery.IN_APP,
        read_at=failed.created_at,
    )
    client.force_login(admin_user)

    assert listed(client, kind="goal-overdue") == {in_app.pk}
    assert listed(client, delivery="in-app") == {in_app.pk}
    assert listed(client, read="yes") == {in_app.pk}
    assert listed(client, read="no") == {failed.pk, sent.pk}
    assert listed(client, email_status="failed") == {failed.pk}
    assert listed(client, email_status="sent") == {sent.pk}
    assert listed(client, email_status="none") == {in_app.pk}


def test_it_lists_in_a_fixed_number_of_queries(client, admin_user, django_assert_num_queries):
    for status in ("failed", "sent"):
        emailed(status)
    NotificationFactory(recipient=None, email="new.person@example.org")
    client.force_login(admin_user)
    client.get(CHANGELIST)

    # Session, user, the filtered count, the full count, the rows joined with person and email,
    # the date hierarchy's range and its days.
    with CaptureQueriesContext(connection) as few:
        assert client.get(CHANGELIST).status_code == 200
    assert len(few) == 7
    for _ in range(15):
        emailed("failed", recipient=UserFactory())
        NotificationFactory()
    with django_assert_num_queries(len(few)):
        assert client.get(CHANGELIST).status_code == 200


def test_it_lets_nobody_add_or_change_a_notification(client, admin_user):
    notification = NotificationFactory(title="As notify() wrote it")
    client.force_login(admin_user)
    change = reverse("admin:notifications_notification_change", args=[notification.pk])

    assert client.get(reverse("admin:notifications_notification_add")).status_code == 403
    assert client.get(change).status_code == 200  # view only
    client.post(change, {"title": "Changed"})
    notification.refresh_from_db()
    assert notification.title == "As notify() wrote it"


def test_it_lists_preferences_read_only_with_filters(client, admin_user, mentee):
    NotificationPreferenceFactory(user=mentee, kind=Notification.Kind.GOAL_DUE_SOON)
    client.force_login(admin_user)
    url = reverse("admin:notifications_notificationpreference_changelist")

    assert client.get(url).status_code == 200
    assert client.get(url, {"kind": "goal-due-soon", "q": "mo"}).context["cl"].result_count == 1
    assert client.get(url, {"kind": "check-in-due"}).context["cl"].result_count == 0
    assert client.get(reverse("admin:notifications_notificationpreference_add")).status_code == 403


# --- Resending ------------------------------------------------------------------------------


def resend_action(client, *notifications: Notification) -> list[str]:
    response = client.post(
        CHANGELIST,
        {"action": "resend_email", "_selected_action": [n.pk for n in notifications]},
    )
    assert response.status_code == 302
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_it_resends_a_failed_email_from_the_admin(
    client, admin_user, mailoutbox, django_capture_on_commit_callbacks
):
    notification = emailed(OutboundEmail.Status.FAILED)
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        messages = resend_action(client, notification)

    assert messages == ["Queued 1 email(s) to be sent again."]
    assert len(mailoutbox) == 1
    assert OutboundEmail.objects.get().status == OutboundEmail.Status.SENT


def test_it_says_a_sent_email_cannot_be_resent(
    client, admin_user, mailoutbox, django_capture_on_commit_callbacks
):
    sent = emailed(OutboundEmail.Status.SENT)
    in_app = NotificationFactory(delivery=Notification.Delivery.IN_APP)
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        messages = resend_action(client, sent, in_app)

    assert len(messages) == 1
    assert messages[0].startswith("2 not resent: only an email that failed can be sent again.")
    assert "erased" in messages[0]
    assert mailoutbox == []


def test_it_offers_resending_only_to_those_who_may_change_emails(client, mentee):
    staff = UserFactory(is_staff=True)
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(Permission.objects.get(codename="view_notification"))
    notification = emailed(OutboundEmail.Status.FAILED)
    client.force_login(staff)

    response = client.get(CHANGELIST)

    assert response.status_code == 200
    assert "resend_email" not in response.content.decode()
    client.post(CHANGELIST, {"action": "resend_email", "_selected_action": [notification.pk]})
    assert OutboundEmail.objects.get().status == OutboundEmail.Status.FAILED


def test_it_requeues_only_a_failed_email_once(django_capture_on_commit_callbacks):
    notification = emailed(OutboundEmail.Status.FAILED)

    with django_capture_on_commit_callbacks() as callbacks:
        assert notification_resend(notification=notification) is True
        assert notification_resend(notification=notification) is False  # queued already

    assert len(callbacks) == 1
    assert OutboundEmail.objects.get().status == OutboundEmail.Status.QUEUED


@pytest.mark.parametrize(
    "status", [OutboundEmail.Status.SENT, OutboundEmail.Status.QUEUED, "sending"]
)
def test_it_resends_nothing_that_did_not_fail(status, django_capture_on_commit_callbacks):
    notification = emailed(status)

    with django_capture_on_commit_callbacks() as callbacks:
        assert notification_resend(notification=notification) is False

    assert callbacks == []
    assert OutboundEmail.objects.get().status == status


def test_it_resends_nothing_for_a_notification_without_email():
    notification = NotificationFactory(delivery=Notification.Delivery.IN_APP)

    assert notification_resend(notification=notification) is False
