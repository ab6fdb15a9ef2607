"""Start-up configuration: a bad or missing variable stops the app with a message naming it.

Slower than the rest (one subprocess each, ~0.5 s): every case must import settings fresh, which
a test inside the already-configured pytest process cannot do.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# Variables that would otherwise leak from the developer's or CI's shell (or from conftest, which
# sets DJANGO_ALLOW_ASYNC_UNSAFE for Playwright) into a case.
CONFIG_PREFIXES = ("DJANGO_", "CELERY_", "ACCOUNT_")
CONFIG_VARIABLES = ("DATABASE_URL", "ALLOWED_HOSTS", "EMAIL_URL", "CACHE_URL", "SITE_URL")


def run(args: list[str], settings_module: str, **variables: str) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in CONFIG_VARIABLES and not key.startswith(CONFIG_PREFIXES)
    }
    env["DJANGO_SETTINGS_MODULE"] = settings_module
    env.update(variables)
    return subprocess.run(
        [sys.executable, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def start(settings_module: str, **variables: str) -> subprocess.CompletedProcess:
    return run(["-c", "import django; django.setup()"], settings_module, **variables)


@pytest.mark.parametrize(
    ("settings_module", "variables", "named"),
    [
        pytest.param(
            "mentorship.settings.production",
            {"ALLOWED_HOSTS": "mentorship.example.org"},
            "DJANGO_SECRET_KEY",
            id="production-without-secret-key",
        ),
        pytest.param(
            "mentorship.settings.production",
            {"DJANGO_SECRET_KEY": secrets.token_urlsafe(64)},
            "ALLOWED_HOSTS",
            id="production-without-allowed-hosts",
        ),
        pytest.param(
            "mentorship.settings.base", {"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG", id="debug-maybe"
        ),
        pytest.param(
            "mentorship.settings.base",
            {"DATABASE_URL": "mysql://x/y"},
            "DATABASE_URL",
            id="database-not-postgres-or-sqlite",
        ),
        pytest.param(
            "mentorship.settings.base",
            {"CELERY_BROKER_URL": "http://nope"},
            "CELERY_BROKER_URL",
            id="broker-not-a-broker-url",
        ),
    ],
)
def test_it_refuses_to_start_and_names_the_variable_to_fix(settings_module, variables, named):
    result = start(settings_module, **variables)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr


def test_it_starts_with_nothing_set():
    result = start("mentorship.settings.base")

    assert result.returncode == 0, result.stderr


def test_it_passes_the_deploy_check_in_production():
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        "mentorship.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="mentorship.example.org",
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
