"""Invitations over HTTP: coordinators invite people; whoever holds a link accepts it, or asks for
a new one when it is dead."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from programs import services
from programs.models import BulkJob, Enrolment, Invitation
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

PERSONAS = ["coordinator", "other_coordinator", "mentor", "mentee", "outsider", "anonymous"]
STRONG_PASSWORD = "violet-tractor-lantern-91"


def invite(cohort, coordinator, email: str = "ana@example.org", role: str = "mentee"):
    return services.invitation_create(cohort=cohort, email=email, role=role, invited_by=coordinator)


def accept_url(invitation: Invitation) -> str:
    return reverse("programs:invitation_accept", args=[invitation.token])


# --- Who may open what ------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_shows_a_cohorts_invitations_to_its_coordinators_only(
    client, sign_in, cohort, mentee, mentor, other_coordinator, outsider, persona
):
    sign_in(persona)

    response = client.get(reverse("programs:invitation_list", args=[cohort.pk]))

    expected = {"anonymous": 302, "coordinator": 200}.get(persona, 404)
    assert response.status_code == expected
    if persona == "anonymous":
        assert response.url.startswith(reverse("account_login"))


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != "coordinator"])
def test_it_lets_other_people_invite_nobody(
    client, sign_in, cohort, mentee, mentor, other_coordinator, outsider, persona
):
    sign_in(persona)

    response = client.post(
        reverse("programs:invitation_list", args=[cohort.pk]),
        {"emails": "ana@example.org", "role": "mentee"},
    )

    assert response.status_code in (302, 404)
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_shows_a_valid_invitation_to_anyone_holding_the_link(
    client, sign_in, cohort, coordinator, mentee, mentor, other_coordinator, outsider, persona
):
    invitation = invite(cohort, coordinator)
    sign_in(persona)

    response = client.get(accept_url(invitation))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Leadership Mentoring" in page
    assert "Corinne Coordinator invites you" in page


def test_it_answers_404_for_an_unknown_invitation(client):
    assert client.get(reverse("programs:invitation_accept", args=["nope"])).status_code == 404
    assert client.post(reverse("programs:invitation_renew", args=["nope"])).status_code == 404


# --- Inviting -----------------------------------------------------------------------------------


def test_it_invites_by_email_with_an_absolute_link(
    client, cohort, coordinator, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://mentoring.example.org"
    client.force_login(coordinator)
    url = reverse("programs:invitation_list", args=[cohort.pk])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"emails": "Ana@Example.org", "role": "mentor"})

    # A worker sends it (here in-process, once the request commits); the page follows it.
    job = BulkJob.objects.get()
    assert response.url == reverse("programs:job_detail", args=[job.pk])
    assert "Invited 1 person." in client.get(response.url).content.decode()
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "ana@example.org",
        "mentor",
        coordinator,
    )
    assert len(mailoutbox) == 1
    assert f"https://mentoring.example.org{accept_url(invitation)}" in mailoutbox[0].body
    assert "ana@example.org" in client.get(url).content.decode()  # listed below the form


def test_it_invites_the_good_addresses_and_lists_the_rest(
    client, cohort, coordinator, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(coordinator)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("programs:invitation_list", args=[cohort.pk]),
            {"emails": "ana@example.org;\nbob@\nana@example.org, cy@example.org", "role": "mentee"},
        )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Sending 2 invitations." in page
    assert "Not sent: bob@ (not a valid address)" in page
    assert response.context["form"]["emails"].value() == "bob@"
    assert sorted(Invitation.objects.values_list("email", flat=True)) == [
        "ana@example.org",
        "cy@example.org",
    ]
    assert len(mailoutbox) == 2


def test_it_offers_external_mentors_only_where_the_program_takes_them(
    client, cohort, coordinator, django_capture_on_commit_callbacks
):
    client.force_login(coordinator)
    url = reverse("programs:invitation_list", args=[cohort.pk])
    assert "is_external" not in client.get(url).context["form"].fields

    cohort.program.allows_external_mentors = True
    cohort.program.save()
    response = client.post(url, {"emails": "x@example.com", "role": "mentee", "is_external": "on"})
    assert "is_external" in response.context["form"].errors

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"emails": "x@example.com", "role": "mentor", "is_external": "on"})
    assert Invitation.objects.get().is_external


def test_it_lists_invitations_in_the_same_number_of_queries_at_any_size(
    client, cohort, coordinator, django_assert_num_queries
):
    def add(count: int) -> None:
        accepter = UserFactory()
        for i in range(count):
            invitation = Invitation.objects.create(
                cohort=cohort,
                email=f"p{Invitation.objects.count()}-{i}@example.org",
                role="mentee",
                invited_by=coordinator,
            )
            if i % 3 == 0:
                Invitation.objects.filter(pk=invitation.pk).update(
                    accepted_at=timezone.now(), accepted_by=accepter
                )

    add(10)
    client.force_login(coordinator)
    url = reverse("programs:invitation_list", args=[cohort.pk])
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    assert len(small) == 7  # 11 until the menu asked in one query
    add(90)

    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url)

    assert len(response.context["page"].object_list) == 50
    assert "Page 1 of 2" in response.content.decode()


# --- Accepting ----------------------------------------------------------------------------------


def test_it_enrols_the_signed_in_invitee(client, cohort, coordinator, outsider):
    invitation = invite(cohort, coordinator, email=outsider.email)
    client.force_login(outsider)

    response = client.post(accept_url(invitation))

    enrolment = Enrolment.objects.get(user=outsider)
    assert response.status_code == 302
    assert response.url == reverse("programs:my_enrolment", args=[enrolment.pk])
    assert (enrolment.status, enrolment.role) == (Enrolment.Status.APPROVED, "mentee")


def test_it_creates_an_account_for_a_stranger_and_signs_them_in(client, cohort, coordinator):
    invitation = invite(cohort, coordinator)
    form = client.get(accept_url(invitation)).context["form"]
    assert set(form.fields) == {"display_name", "password", "password_confirmation"}

    response = client.post(
        accept_url(invitation),
        {
            "display_name": "Ana Silva",
            "password": STRONG_PASSWORD,
            "password_confirmation": STRONG_PASSWORD,
        },
        follow=True,
    )

    user = User.objects.get(email="ana@example.org")
    enrolment = Enrolment.objects.get(user=user)
    assert response.redirect_chain == [(reverse("programs:my_enrolment", args=[enrolment.pk]), 302)]
    assert get_user(client) == user
    assert "Welcome, Ana!" in response.content.decode()
    assert enrolment.status == Enrolment.Status.APPROVED
    assert EmailAddress.objects.get(user=user, email="ana@example.org").verified


def test_it_checks_the_new_password_twice_and_against_the_rules(client, cohort, coordinator):
    invitation = invite(cohort, coordinator)

    mismatch = client.post(
        accept_url(invitation),
        {"display_name": "Ana", "password": STRONG_PASSWORD, "password_confirmation": "other"},
    )
    weak = client.post(
        accept_url(invitation),
        {"display_name": "Ana", "password": "123", "password_confirmation": "123"},
    )

    assert "password_confirmation" in mismatch.context["form"].errors
    assert weak.status_code == 200
    assert weak.context["form"].errors["password"]
    assert not User.objects.filter(email="ana@example.org").exists()
    assert get_user(client).is_anonymous


def test_it_asks_a_person_with_an_account_to_sign_in(client, cohort, coordinator, outsider):
    invitation = invite(cohort, coordinator, email=outsider.email)

    page = client.get(accept_url(invitation)).content.decode()

    assert "Sign in to accept" in page
    assert f'href="{reverse("account_login")}?next={accept_url(invitation)}"' in page
    # A POST cannot take the account over either.
    client.post(
        accept_url(invitation),
        {
            "display_name": "X",
            "password": STRONG_PASSWORD,
            "password_confirmation": STRONG_PASSWORD,
        },
    )
    outsider.refresh_from_db()
    assert outsider.check_password(TEST_PASSWORD)
    assert not Enrolment.objects.filter(user=outsider).exists()


def test_it_lets_an_imported_person_set_their_password(client, cohort, coordinator):
    imported = User.objects.create_user(email="ana@example.org", display_name="Ana Imported")
    invitation = invite(cohort, coordinator)

    form = client.get(accept_url(invitation)).context["form"]
    assert form["display_name"].value() == "Ana Imported"
    client.post(
        accept_url(invitation),
        {
            "display_name": "Ana Silva",
            "password": STRONG_PASSWORD,
            "password_confirmation": STRONG_PASSWORD,
        },
    )

    imported.refresh_from_db()
    assert imported.check_password(STRONG_PASSWORD)
    assert get_user(client) == imported


def test_it_tells_someone_else_the_invitation_is_not_theirs(client, cohort, coordinator, outsider):
    invitation = invite(cohort, coordinator)
    client.force_login(outsider)

    page = client.get(accept_url(invitation)).content.decode()
    client.post(accept_url(invitation))

    assert services.INVITATION_FOR_SOMEONE_ELSE.format(email="ana@example.org") in page
    assert "Sign out" in page
    assert not Enrolment.objects.filter(cohort=cohort).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_it_offers_a_new_link_for_a_used_one_and_emails_coordinators_once(
    client, cohort, coordinator, outsider, mailoutbox, django_capture_on_commit_callbacks
):
    invitation = invite(cohort, coordinator, email=outsider.email)
    services.invitation_accept(invitation=invitation, user=outsider)
    mailoutbox.clear()

    page = client.get(accept_url(invitation)).content.decode()
    assert "This invitation has already been used." in page
    assert reverse("programs:invitation_renew", args=[invitation.token]) in page

    renew = reverse("programs:invitation_renew", args=[invitation.token])
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(renew, follow=True)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(renew)

    assert first.redirect_chain == [(accept_url(invitation), 302)]
    assert "We&#x27;ve asked the coordinator to send you a new invitation." in (
        first.content.decode()
    )
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [coordinator.email]


def test_it_says_when_an_invitation_has_expired(client, cohort, coordinator):
    invitation = invite(cohort, coordinator)

    with time_machine.travel(timezone.now() + dt.timedelta(days=15), tick=False):
        response = client.get(accept_url(invitation))
        client.post(
            accept_url(invitation),
            {
                "display_name": "Ana",
                "password": STRONG_PASSWORD,
                "password_confirmation": STRONG_PASSWORD,
            },
        )

    assert response.status_code == 200
    page = response.content.decode()
    assert "This invitation has expired." in page
    assert "Ask for a new invitation" in page
    assert not User.objects.filter(email="ana@example.org").exists()


def test_it_does_not_ask_for_renewal_of_a_live_link(client, cohort, coordinator, mailoutbox):
    invitation = invite(cohort, coordinator)
    mailoutbox.clear()

    response = client.post(reverse("programs:invitation_renew", args=[invitation.token]))

    assert response.url == accept_url(invitation)
    invitation.refresh_from_db()
    assert invitation.renewal_requested_at is None


def test_it_shows_the_invitee_their_enrolment_when_they_open_a_used_link(
    client, cohort, coordinator, outsider
):
    invitation = invite(cohort, coordinator, email=outsider.email)
    _, enrolment = services.invitation_accept(invitation=invitation, user=outsider)
    client.force_login(outsider)

    page = client.get(accept_url(invitation)).content.decode()

    assert reverse("programs:my_enrolment", args=[enrolment.pk]) in page
