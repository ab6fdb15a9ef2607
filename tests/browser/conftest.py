from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.factories import TEST_PASSWORD


@pytest.fixture
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def sign_in(page: Page, live_server) -> Callable[..., None]:
    """Sign in through the login page as `email` (the factories' password unless told) and wait
    for the home page. Overrides the test client's `sign_in` for the browser journeys."""

    def sign_in_as(email: str, *, password: str = TEST_PASSWORD) -> None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=login]", email)
        page.fill("input[name=password]", password)
        page.get_by_role("button", name=re.compile("sign in", re.I)).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")

    return sign_in_as


@pytest.fixture
def sign_out(page: Page) -> Callable[[], None]:
    """Sign out with the visible button (the narrow layout has a second one in its menu)."""

    def sign_out_now() -> None:
        page.get_by_role("button", name="Sign out").locator("visible=true").first.click()

    return sign_out_now
