"""Behind a proxy, the failed-login limit counts each client, not the proxy.

allauth allows 10 failed sign-ins a minute per address. Every request reaches gunicorn from the
proxy's address, so without TRUSTED_PROXY_COUNT ten wrong passwords from anyone locked everyone
out; with it, the address is the one the proxy appended to X-Forwarded-For."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"
ATTACKER = "203.0.113.66"
NEIGHBOUR = "198.51.100.7"
TOO_MANY = "Too many failed login attempts"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def one_trusted_proxy(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1


def sign_in_through_proxy(email: str, password: str, *, forwarded_for: str):
    """A fresh browser, reaching us through the proxy (which appends the client's address)."""
    return Client().post(
        reverse("account_login"),
        {"login": email, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


def guess_ten_wrong_passwords(*, forwarded_for: str) -> None:
    for attempt in range(10):
        response = sign_in_through_proxy(
            f"guess{attempt}@example.org", "not-the-password", forwarded_for=forwarded_for
        )
        assert TOO_MANY not in response.content.decode()


def test_it_locks_out_the_guessing_client_and_lets_another_sign_in(one_trusted_proxy):
    neighbour = UserFactory(email="nina.neighbour@example.org")
    attacker_account = UserFactory(email="arno.attacker@example.org")

    guess_ten_wrong_passwords(forwarded_for=ATTACKER)

    blocked = sign_in_through_proxy(attacker_account.email, TEST_PASSWORD, forwarded_for=ATTACKER)
    assert blocked.status_code == 200
    assert TOO_MANY in blocked.content.decode()

    signed_in = sign_in_through_proxy(neighbour.email, TEST_PASSWORD, forwarded_for=NEIGHBOUR)
    assert signed_in.status_code == 302
    assert signed_in.wsgi_request.user == neighbour


def test_a_forged_forwarded_for_does_not_escape_the_limit(one_trusted_proxy):
    attacker_account = UserFactory(email="arno.attacker@example.org")
    guess_ten_wrong_passwords(forwarded_for=ATTACKER)

    # The attacker writes their own X-Forwarded-For; the proxy appends the real address after it.
    forged = sign_in_through_proxy(
        attacker_account.email, TEST_PASSWORD, forwarded_for=f"{NEIGHBOUR}, {ATTACKER}"
    )
    assert TOO_MANY in forged.content.decode()


def test_without_a_trusted_proxy_everyone_behind_it_shares_one_limit(settings):
    """The default (no proxy trusted) is right when browsers reach gunicorn directly; behind a
    proxy it is the defect this setting fixes: one guesser blocks the neighbour too."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    neighbour = UserFactory(email="nina.neighbour@example.org")

    guess_ten_wrong_passwords(forwarded_for=ATTACKER)

    response = sign_in_through_proxy(neighbour.email, TEST_PASSWORD, forwarded_for=NEIGHBOUR)
    assert TOO_MANY in response.content.decode()
