"""A new person signs up, verifies their email, lands on their home page, signs out, signs back
in and signs out again — in Debian's chromium, against a live server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-and-private-passphrase"


def confirmation_link(mailoutbox: list, address: str) -> str:
    messages = [m for m in mailoutbox if address in m.to]
    assert messages, f"no email was sent to {address}"
    match = re.search(r"https?://\S+/accounts/confirm-email/\S+/", messages[-1].body)
    assert match, messages[-1].body
    return match.group(0)


def test_it_takes_a_new_person_from_sign_up_to_sign_out(
    page: Page, live_server, settings, mailoutbox
):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Create account").first.click()

    # A typo in the repeated password is caught with a clear message, nothing created.
    page.fill("input[name=email]", "Priya.Natarajan@Example.org")
    page.fill("input[name=display_name]", "Priya Natarajan")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD + "x")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".errorlist").first).to_contain_text("same password")
    assert not User.objects.exists()

    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Verify")

    page.goto(confirmation_link(mailoutbox, "priya.natarajan@example.org"))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Welcome, Priya")).to_be_visible()
    expect(page.get_by_text("You are not in a program yet")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))

    page.fill("input[name=login]", "priya.natarajan@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    expect(page.get_by_text("Welcome, Priya")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    page.goto(f"{live_server.url}/accounts/settings/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
