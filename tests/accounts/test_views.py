"""Sign-up, sign-in and personal settings, through the HTTP contract a visitor meets."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user
from django.core.cache import cache
from django.urls import reverse

from accounts.models import User
from notifications.models import OutboundEmail
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "violet-tractor-lantern-91"


def signup_data(**overrides: str) -> dict[str, str]:
    data = {
        "email": "priya.natarajan@example.org",
        "password1": STRONG_PASSWORD,
        "password2": STRONG_PASSWORD,
        "display_name": "Priya Natarajan",
        "time_zone": "Asia/Kolkata",
    }
    data.update(overrides)
    return data


def form_errors(response) -> list[str]:
    """Every error message the login or sign-up form shows, field and non-field."""
    form = response.context["form"]
    return [message for messages in form.errors.values() for message in messages]


def test_it_shows_field_errors_on_a_bad_sign_up_and_creates_nobody(client):
    response = client.post(
        reverse("account_signup"),
        signup_data(email="not-an-email", password2="something-else-entirely", display_name=""),
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) >= {"email", "password2", "display_name"}
    page = response.content.decode()
    assert "Enter a valid email address." in page
    assert "You must type the same password each time." in page
    assert "This field is required." in page
    assert not User.objects.exists()


def test_it_signs_up_a_person_and_sends_them_a_verification_email(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account_signup"), signup_data(email="Priya.Natarajan@Example.ORG")
        )

    assert response.status_code == 302
    user = User.objects.get()
    assert user.email == "priya.natarajan@example.org"
    assert user.display_name == "Priya Natarajan"
    assert user.time_zone == "Asia/Kolkata"
    assert user.check_password(STRONG_PASSWORD)

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["priya.natarajan@example.org"]
    assert message.subject.startswith("[Mentorship]")

    # The stored copy is kept for the record, but the body (a verification link) is erased.
    outbound = OutboundEmail.objects.get()
    assert outbound.status == OutboundEmail.Status.SENT
    assert outbound.to == ["priya.natarajan@example.org"]
    assert outbound.text_body == ""
    assert outbound.html_body == ""


def test_it_gives_the_same_login_error_whether_or_not_the_email_exists(client):
    cache.clear()
    UserFactory(email="known@example.org")

    known = client.post(
        reverse("account_login"), {"login": "known@example.org", "password": "wrong-password"}
    )
    unknown = client.post(
        reverse("account_login"), {"login": "nobody@example.org", "password": "wrong-password"}
    )

    assert known.status_code == unknown.status_code == 200
    assert form_errors(known) == form_errors(unknown)
    assert form_errors(known), "a failed login must say that it failed"
    for response in (known, unknown):
        page = response.content.decode().lower()
        assert "does not exist" not in page
        assert "no account" not in page
        assert "not assigned to any user" not in page
        assert not get_user(response.wsgi_request).is_authenticated
    # The message is shown on the page, not only carried in the form.
    assert form_errors(known)[0] in known.content.decode()


def test_it_refuses_even_the_right_password_after_five_failed_logins(client):
    cache.clear()
    user = UserFactory(email="target@example.org")
    for _ in range(5):
        client.post(reverse("account_login"), {"login": user.email, "password": "guess"})

    response = client.post(
        reverse("account_login"), {"login": user.email, "password": TEST_PASSWORD}
    )

    assert response.status_code == 200
    assert not get_user(response.wsgi_request).is_authenticated
    assert "Too many failed login attempts" in response.content.decode()


def test_it_signs_in_with_the_right_password_and_greets_by_name(client):
    cache.clear()
    user = UserFactory(email="grace@example.org", display_name="Grace Hopper")

    response = client.post(
        reverse("account_login"), {"login": user.email, "password": TEST_PASSWORD}
    )

    assert response.status_code == 302
    assert response.url == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "Grace Hopper" in home.content.decode()


def test_it_sends_an_anonymous_visitor_from_settings_to_sign_in(client):
    response = client.get(reverse("accounts:settings"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert "next=" in response.url


def test_it_saves_a_new_name_and_time_zone_from_settings(client, outsider):
    client.force_login(outsider)

    response = client.post(
        reverse("accounts:settings"),
        {"display_name": "  Olga Petrova ", "time_zone": "America/Toronto"},
        follow=True,
    )

    assert response.status_code == 200
    outsider.refresh_from_db()
    assert outsider.display_name == "Olga Petrova"
    assert outsider.time_zone == "America/Toronto"
    assert "Your settings are saved." in response.content.decode()


def test_it_rejects_an_unknown_time_zone_in_settings_and_saves_nothing(client, outsider):
    client.force_login(outsider)

    response = client.post(
        reverse("accounts:settings"), {"display_name": "Olga Petrova", "time_zone": "Mars/Base"}
    )

    assert response.status_code == 200
    assert "time_zone" in response.context["form"].errors
    assert "Mars/Base is not one of the available choices" in response.content.decode()
    outsider.refresh_from_db()
    assert outsider.display_name == "Olga Outsider"
    assert outsider.time_zone == "Europe/London"
