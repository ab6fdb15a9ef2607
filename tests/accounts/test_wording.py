"""One voice everywhere (issue 15): the account pages allauth draws say "Sign in", "Create
account" and "Remember me", as the rest of Mentorship does, never allauth's Title Case."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

pytestmark = pytest.mark.django_db

CATALOG = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


@pytest.mark.parametrize(
    ("url_name", "said", "not_said"),
    [
        ("account_login", ["Sign in", "Remember me", "Create an account"], ["Sign In", "Sign Up"]),
        ("account_signup", ["Create account", "sign in"], ["Sign Up", "Signup"]),
        ("account_reset_password", ["Password reset", "Reset my password"], ["Reset My"]),
    ],
)
def test_it_speaks_in_sentence_case_on_the_account_pages(client, url_name, said, not_said):
    page = text_of(client.get(reverse(url_name)).content.decode())

    for words in said:
        assert words in page
    for words in not_said:
        assert words not in page


def test_it_uses_every_wording_of_the_catalog():
    # The compiled catalog is what Django reads: an entry added to the .po file and not compiled
    # (msgfmt, see the file's header) would silently keep allauth's wording.
    entries = re.findall(r'^msgid "(.+)"\nmsgstr "(.+)"$', CATALOG.read_text(), re.M)
    assert len(entries) > 40
    with translation.override("en-gb"):
        for msgid, msgstr in entries:
            assert translation.gettext(msgid) == msgstr
