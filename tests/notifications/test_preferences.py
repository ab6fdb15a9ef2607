"""Per-kind email choices: a kind turned off reaches the notification centre only, transactional
kinds always come by email, and the settings page saves and shows the choices."""

from __future__ import annotations

import pytest
from django.urls import reverse

from notifications.models import Notification, NotificationPreference
from notifications.services import (
    notification_email_kinds_for,
    notification_kinds_optional,
    notification_preferences_update,
    notify,
)

pytestmark = pytest.mark.django_db

OPTIONAL = {kind.value for kind in notification_kinds_optional()}


def test_it_keeps_a_kind_turned_off_in_the_app_only(
    outsider, mailoutbox, django_capture_on_commit_callbacks
):
    notification_preferences_update(
        user=outsider, email_kinds=OPTIONAL - {Notification.Kind.CHECK_IN_LOGGED}
    )

    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(
            kind=Notification.Kind.CHECK_IN_LOGGED, recipient=outsider, about=None, context={}
        )

    assert notification is not None
    assert notification.recipient == outsider
    assert notification.delivery == Notification.Delivery.IN_APP
    assert notification.outbound_email is None
    assert mailoutbox == []


def test_it_still_emails_a_kind_left_on(outsider, mailoutbox, django_capture_on_commit_callbacks):
    notification_preferences_update(user=outsider, email_kinds={Notification.Kind.ANNOUNCEMENT})

    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(
            kind=Notification.Kind.ANNOUNCEMENT,
            recipient=outsider,
            about=None,
            context={"announcement": {"subject": "Kick-off", "body": "See you Monday."}},
        )

    assert notification is not None
    assert notification.delivery == Notification.Delivery.EMAIL_NOW
    assert [message.to for message in mailoutbox] == [[outsider.email]]


def test_it_always_emails_a_transactional_kind(
    outsider, mailoutbox, django_capture_on_commit_callbacks
):
    notification_preferences_update(user=outsider, email_kinds=set())
    # Even a row written by hand (or by an older release) does not stop a transactional email.
    NotificationPreference.objects.create(
        user=outsider, kind=Notification.Kind.INVITATION, email=False
    )

    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(
            kind=Notification.Kind.INVITATION, recipient=outsider, about=None, context={}
        )

    assert notification is not None
    assert notification.delivery == Notification.Delivery.EMAIL_NOW
    assert len(mailoutbox) == 1


def test_it_writes_only_the_kinds_that_change(outsider):
    assert notification_email_kinds_for(user=outsider) == OPTIONAL

    changed = notification_preferences_update(
        user=outsider, email_kinds=OPTIONAL - {Notification.Kind.GOAL_DUE_SOON}
    )
    again = notification_preferences_update(
        user=outsider, email_kinds=OPTIONAL - {Notification.Kind.GOAL_DUE_SOON}
    )

    assert changed == [Notification.Kind.GOAL_DUE_SOON]
    assert again == []
    assert notification_email_kinds_for(user=outsider) == OPTIONAL - {"goal-due-soon"}
    assert NotificationPreference.objects.filter(user=outsider).count() == 1


def test_it_refuses_an_unknown_kind_and_changes_nothing(outsider):
    with pytest.raises(ValueError, match="carrier-pigeon"):
        notification_preferences_update(user=outsider, email_kinds={"carrier-pigeon"})

    assert not NotificationPreference.objects.exists()


def test_the_settings_page_saves_and_shows_the_email_choices(client, sign_in):
    user = sign_in("outsider")
    kept = OPTIONAL - {"announcement", "daily-digest"}

    response = client.post(
        reverse("accounts:settings_emails"), {"email_kinds": sorted(kept)}, follow=True
    )

    assert response.redirect_chain == [(reverse("accounts:settings"), 302)]
    assert notification_email_kinds_for(user=user) == kept
    assert "Your email choices are saved." in response.content.decode()
    form = response.context["email_form"]
    assert set(form.initial["email_kinds"]) == kept
    boxes = {
        widget.data["value"]: widget.data["selected"] for widget in form["email_kinds"].subwidgets
    }
    assert boxes == {kind: kind in kept for kind in OPTIONAL}
    html = response.content.decode()
    # Transactional kinds are listed as always on, never as a box to untick.
    assert 'value="invitation"' not in html
    assert "Always by email" in html
    assert Notification.Kind.MATCH_PUBLISHED.label in html


def test_the_settings_page_turns_everything_optional_off_with_no_box_ticked(client, sign_in):
    user = sign_in("outsider")

    response = client.post(reverse("accounts:settings_emails"), {})

    assert response.status_code == 302
    assert notification_email_kinds_for(user=user) == set()


def test_the_settings_page_refuses_a_made_up_kind_and_saves_nothing(client, sign_in):
    sign_in("outsider")

    response = client.post(
        reverse("accounts:settings_emails"), {"email_kinds": ["invitation", "check-in-due"]}
    )

    assert response.status_code == 200
    assert response.context["email_form"].errors
    assert not NotificationPreference.objects.exists()


def test_the_email_choices_need_a_signed_in_person(client):
    response = client.post(reverse("accounts:settings_emails"), {})

    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]
