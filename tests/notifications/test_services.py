"""Outbound email: sent after commit, never for rolled-back work, never twice, retried on failure,
and its body (which can hold sign-in links) kept from everyone's eyes, admins included."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.mail import EmailMultiAlternatives
from django.db import transaction

from notifications.models import OutboundEmail
from notifications.services import email_queue, email_send

pytestmark = pytest.mark.django_db


class Rollback(Exception):
    pass


def queue_one(**overrides: Any) -> OutboundEmail:
    fields: dict[str, Any] = {
        "to": ["maya.mentor@example.org"],
        "subject": "[Mentorship] You have a new mentee",
        "text_body": "Say hello to Mo.",
        "html_body": "<p>Say hello to Mo.</p>",
    }
    fields.update(overrides)
    return email_queue(**fields)


def test_it_sends_a_queued_email_once_the_transaction_commits(
    mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        email = queue_one()
        assert mailoutbox == [], "nothing leaves before the commit"

    assert len(callbacks) == 1
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["maya.mentor@example.org"]
    assert message.subject == "[Mentorship] You have a new mentee"
    assert message.body == "Say hello to Mo."
    assert message.alternatives[0][0] == "<p>Say hello to Mo.</p>"
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT
    assert email.sent_at is not None
    assert email.attempts == 1


def test_it_sends_nothing_about_work_that_rolled_back(
    mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                queue_one()
                raise Rollback
        except Rollback:
            pass

    assert callbacks == []
    assert mailoutbox == []
    assert not OutboundEmail.objects.exists()


def test_it_sends_an_email_once_when_asked_twice(mailoutbox):
    email = queue_one()  # its on-commit task is captured by the test transaction and never runs

    assert email_send(email_id=email.pk) is True
    assert email_send(email_id=email.pk) is False

    assert len(mailoutbox) == 1


def test_it_records_a_failed_send_and_succeeds_on_a_later_retry(mailoutbox, monkeypatch):
    email = queue_one()

    def smtp_down(self, fail_silently=False):
        raise OSError("smtp down")

    with monkeypatch.context() as patch:
        patch.setattr(EmailMultiAlternatives, "send", smtp_down)
        with pytest.raises(OSError, match="smtp down"):
            email_send(email_id=email.pk)

    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.FAILED
    assert email.last_error == "smtp down"
    assert email.attempts == 1
    assert email.text_body == "Say hello to Mo.", "kept so the retry has something to send"
    assert mailoutbox == []

    assert email_send(email_id=email.pk) is True

    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT
    assert email.attempts == 2
    assert email.last_error == ""
    assert email.text_body == ""
    assert len(mailoutbox) == 1


def test_it_never_shows_an_email_body_in_the_admin(client, admin_user):
    secret = "https://mentorship.example.org/accounts/confirm/SECRET-KEY-7f3a9c/"
    email = queue_one(text_body=f"Confirm: {secret}", html_body=f'<a href="{secret}">Confirm</a>')
    client.force_login(admin_user)

    changelist = client.get("/admin/notifications/outboundemail/")
    change = client.get(f"/admin/notifications/outboundemail/{email.pk}/change/")

    assert changelist.status_code == 200
    assert change.status_code == 200
    assert "You have a new mentee" in changelist.content.decode()
    assert "maya.mentor@example.org" in change.content.decode()
    for response in (changelist, change):
        assert "SECRET-KEY-7f3a9c" not in response.content.decode()
