"""The outbox relay (notifications.services.outbound): an email whose task was lost is sent
anyway, once; an email stuck "sending" with a dead worker is resolved by the documented rule
(sent again once, marked as a possible duplicate; stuck twice, failed for an admin); a failure
is retried after its back-off; and a broker that is down when an email is queued costs the write
nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.urls import reverse

from notifications.models import OutboundEmail
from notifications.services import MAX_SEND_ATTEMPTS, email_queue, email_send
from notifications.services.outbound import email_recover_stuck, email_relay_due
from tests.factories import NotificationFactory, OutboundEmailFactory
from tests.outage import broker_back, broker_down  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def relay_settings(settings) -> None:
    settings.OUTBOX_RELAY_GRACE_SECONDS = 120
    settings.OUTBOX_SENDING_TIMEOUT_SECONDS = 600


def queued_but_lost(subject: str = "You have a new mentee") -> OutboundEmail:
    """An email stored and committed whose task never reached a worker (a queue lost with
    Redis): its on-commit publish is dropped."""
    with transaction.atomic():
        return email_queue(to=["maya.mentor@example.org"], subject=subject, text_body="Hello.")


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_it_sends_an_email_whose_task_was_lost_once_the_grace_period_has_passed(
    clock, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        email = queued_but_lost()

    clock.move_to(at(119))
    assert email_relay_due() == 0, "its task may still be on its way"
    assert mailoutbox == []

    clock.move_to(at(121))
    assert email_relay_due() == 1
    assert email_relay_due() == 0, "nothing left to relay"

    assert [m.subject for m in mailoutbox] == ["You have a new mentee"]
    email.refresh_from_db()
    assert (email.status, email.attempts, email.possible_duplicate) == ("sent", 1, False)


def test_it_sends_once_when_the_lost_task_turns_up_after_the_relay(
    clock, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queued_but_lost()
    clock.move_to(at(121))
    email_relay_due()

    callbacks[0]()  # the original message was only late, not lost

    assert len(mailoutbox) == 1


def test_it_relays_in_bounded_batches_oldest_first(
    clock, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        for number in range(3):
            clock.move_to(at(number))
            queued_but_lost(subject=f"Email {number}")
    clock.move_to(at(200))

    assert email_relay_due(limit=2) == 2
    assert [m.subject for m in mailoutbox] == ["Email 0", "Email 1"]
    assert email_relay_due(limit=2) == 1
    assert [m.subject for m in mailoutbox][-1] == "Email 2"


def test_it_retries_a_failed_email_after_its_back_off(clock, mailoutbox, monkeypatch):
    email = OutboundEmailFactory(subject="Your check-in is overdue")

    def smtp_down(self, fail_silently=False):
        raise OSError("smtp down")

    with monkeypatch.context() as patch:
        patch.setattr(EmailMultiAlternatives, "send", smtp_down)
        with pytest.raises(OSError, match="smtp down"):
            email_send(email_id=email.pk)
    email.refresh_from_db()
    assert email.due_at == at(30), "the task's own retry comes 30 s later"

    # The task's retry was lost with the broker: the relay sends it a grace period later.
    clock.move_to(at(30 + 119))
    assert email_relay_due() == 0
    clock.move_to(at(30 + 121))
    assert email_relay_due() == 1

    email.refresh_from_db()
    assert (email.status, email.attempts) == ("sent", 2)
    assert len(mailoutbox) == 1


def test_it_gives_up_after_the_last_attempt(clock, mailoutbox):
    email = OutboundEmailFactory(
        status=OutboundEmail.Status.FAILED, attempts=MAX_SEND_ATTEMPTS, due_at=None
    )
    clock.move_to(at(24 * 3600))

    assert email_relay_due() == 0
    assert email_send(email_id=email.pk) is False, "a stray retry sends nothing either"
    assert mailoutbox == []


def test_it_sends_an_email_stuck_sending_again_once_marked_as_a_possible_duplicate(
    clock, mailoutbox
):
    """The worker died during the SMTP call: nobody knows whether the email left. It is sent
    again, because a lost invitation costs more than a second copy, and marked so."""
    email = OutboundEmailFactory(
        status=OutboundEmail.Status.SENDING, claimed_at=T0, subject="Your invitation"
    )

    clock.move_to(at(599))
    assert email_recover_stuck().resent == 0, "a send may still be under way"
    clock.move_to(at(601))
    recovered = email_recover_stuck()

    assert (recovered.resent, recovered.given_up) == (1, 0)
    assert [m.subject for m in mailoutbox] == ["Your invitation"]
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT
    assert email.possible_duplicate is True
    assert email.attempts == 2, "the attempt the dead worker made counts"
    assert email_recover_stuck().resent == 0


def test_it_fails_an_email_stuck_twice_for_an_admin_to_resend(
    clock, mailoutbox, client, admin_user, django_capture_on_commit_callbacks
):
    email = OutboundEmailFactory(
        status=OutboundEmail.Status.SENDING,
        claimed_at=T0,
        possible_duplicate=True,
        attempts=2,
        subject="Your invitation",
    )
    notification = NotificationFactory(outbound_email=email)
    clock.move_to(at(601))

    recovered = email_recover_stuck()

    assert (recovered.resent, recovered.given_up) == (0, 1)
    assert mailoutbox == [], "never a third copy on its own"
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.FAILED
    assert email.due_at is None
    assert "it had already been sent again after the same problem" in email.last_error
    clock.move_to(at(3600))
    assert email_relay_due() == 0

    # The admin finds it by its status and its flag, and resends it on purpose.
    client.force_login(admin_user)
    changelist = reverse("admin:notifications_outboundemail_changelist")
    listed = client.get(changelist, {"status": "failed", "possible_duplicate__exact": "1"})
    assert [e.pk for e in listed.context["cl"].result_list] == [email.pk]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:notifications_notification_changelist"),
            {"action": "resend_email", "_selected_action": [notification.pk]},
        )
    assert [m.subject for m in mailoutbox] == ["Your invitation"]


def test_it_leaves_an_email_that_a_late_worker_sent_as_sent(clock, mailoutbox):
    email = OutboundEmailFactory(status=OutboundEmail.Status.SENDING, claimed_at=T0)
    clock.move_to(at(601))
    OutboundEmail.objects.filter(pk=email.pk).update(status=OutboundEmail.Status.SENT)

    assert email_recover_stuck().resent == 0
    assert mailoutbox == []


def test_it_keeps_a_write_whose_email_could_not_be_published_and_relays_it(
    settings,
    broker_down,  # noqa: F811
    mailoutbox,
):
    with time_machine.travel(T0, tick=False):
        with transaction.atomic():
            email = email_queue(
                to=["mo.mentee@example.org"], subject="A meeting was logged", text_body="Hi."
            )
        # No error reached the caller: the row is stored and waits.
        email.refresh_from_db()
        assert email.status == OutboundEmail.Status.QUEUED

    broker_back(settings)
    with time_machine.travel(at(121), tick=False):
        assert email_relay_due() == 1

    assert [m.subject for m in mailoutbox] == ["A meeting was logged"]


def test_a_batch_of_emails_goes_out_as_one_message_and_each_email_once(
    mailoutbox, django_capture_on_commit_callbacks
):
    """Many urgent emails at once (the sweep, a published cohort) are handed to the broker as
    one message that a worker turns into one task per email; sending the batch again (a
    redelivered message) sends nothing twice, since each email is claimed before it is sent."""
    from notifications.tasks import email_send_fanout_task

    emails = OutboundEmailFactory.create_batch(3)
    assert email_send_fanout_task(email_ids=[e.pk for e in emails]) == 3
    assert email_send_fanout_task(email_ids=[e.pk for e in emails]) == 3
    assert sorted(m.subject for m in mailoutbox) == sorted(e.subject for e in emails)


def test_a_batch_the_broker_refuses_waits_for_the_relay(
    settings,
    broker_down,  # noqa: F811
    mailoutbox,
):
    from notifications.tasks import email_send_fanout_task

    with time_machine.travel(T0, tick=False):
        emails = OutboundEmailFactory.create_batch(2)
        assert email_send_fanout_task(email_ids=[e.pk for e in emails]) == 0
    assert mailoutbox == []
    broker_back(settings)
    with time_machine.travel(at(121), tick=False):
        assert email_relay_due() == 2
    assert len(mailoutbox) == 2
