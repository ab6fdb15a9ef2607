"""The operations variables are read strictly: a bad value stops start-up naming the variable,
and TRUSTED_PROXY_COUNT reaches allauth and the request-id middleware."""

from __future__ import annotations

import pytest

from tests.core.test_settings import run, start


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        pytest.param({"TRUSTED_PROXY_COUNT": "one"}, "TRUSTED_PROXY_COUNT", id="proxy-count-word"),
        pytest.param(
            {"TRUSTED_CLIENT_IP_HEADER": "X Real IP"},
            "TRUSTED_CLIENT_IP_HEADER",
            id="client-ip-header-not-a-header",
        ),
        pytest.param({"LOG_FORMAT": "xml"}, "LOG_FORMAT", id="log-format-unknown"),
        # sentry-sdk is not installed: a DSN must not look as if errors were being reported.
        pytest.param(
            {"SENTRY_DSN": "https://key@sentry.example.org/1"},
            "SENTRY_DSN",
            id="sentry-dsn-without-sentry-sdk",
        ),
    ],
)
def test_it_refuses_a_bad_operations_setting_and_names_it(variables, named):
    result = start("mentorship.settings.base", **variables)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr


def test_one_trusted_proxy_reaches_allauth_and_the_request_id_middleware():
    show = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.ALLAUTH_TRUSTED_PROXY_COUNT, s.REQUEST_ID_HEADER_TRUSTED, s.LOG_FORMAT)"
    )

    default = run(["-c", show], "mentorship.settings.base")
    behind_a_proxy = run(["-c", show], "mentorship.settings.base", TRUSTED_PROXY_COUNT="1")

    assert default.stdout.split() == ["0", "False", "text"], default.stderr
    assert behind_a_proxy.stdout.split() == ["1", "True", "text"], behind_a_proxy.stderr
