"""Strict reading of settings from the environment.

django-environ does the parsing. These wrappers exist because its defaults are forgiving in the
wrong places: `DJANGO_DEBUG=maybe` silently becomes False and a mistyped `DATABASE_URL` fails deep
inside a driver. Here every malformed or missing value stops start-up with an
`ImproperlyConfigured` that names the variable, so an operator knows what to fix.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

_env = environ.Env()
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_MISSING: Any = object()

BROKER_SCHEMES = ("redis", "rediss", "amqp", "amqps", "memory")


def read_env_file(path: Path) -> None:
    """Load `.env` if present; variables already in the real environment win."""
    if path.is_file():
        environ.Env.read_env(str(path), overwrite=False)


def _raw(name: str) -> str | None:
    value = _env.str(name, default=None)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_required(name: str, *, why: str) -> str:
    value = _raw(name)
    if value is None:
        raise ImproperlyConfigured(f"Set the {name} environment variable: {why}")
    return value


def env_str(name: str, *, default: str) -> str:
    value = _raw(name)
    return default if value is None else value


def env_optional(name: str) -> str | None:
    """A value that may be absent (None), e.g. a DSN that switches a feature on."""
    return _raw(name)


def env_header_name(name: str) -> str | None:
    value = _raw(name)
    if value is None:
        return None
    if not re.fullmatch(r"[A-Za-z0-9-]+", value):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not an HTTP header name (letters, digits and dashes, "
            "e.g. X-Real-IP)."
        )
    return value


def env_choice(name: str, *, choices: tuple[str, ...], default: str) -> str:
    value = _raw(name)
    if value is None:
        return default
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of: {', '.join(choices)}.")
    return value


def env_bool(name: str, *, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a boolean: use one of true/false, yes/no, on/off, 1/0."
    )


def env_int(name: str, *, default: int, minimum: int = 0) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}.")
    return number


def env_list(name: str, *, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_database(name: str, *, default: str) -> dict[str, Any]:
    value = _raw(name) or default
    try:
        config = environ.Env.db_url_config(value)
    except Exception as error:  # django-environ raises several types for bad URLs
        raise ImproperlyConfigured(f"{name} is not a usable database URL: {error}") from None
    engine = config.get("ENGINE", "")
    if not engine.endswith(("postgresql", "sqlite3")):
        raise ImproperlyConfigured(
            f"{name} must be a postgres:// or sqlite:/// URL (got engine {engine or 'none'})."
        )
    if engine.endswith("postgresql") and not config.get("NAME"):
        raise ImproperlyConfigured(f"{name} names no database: add /<name> at the end.")
    return config


def env_broker_url(name: str) -> str:
    value = _raw(name)
    if value is None:
        return ""
    scheme = value.split("://", 1)[0] if "://" in value else ""
    if scheme not in BROKER_SCHEMES:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a broker URL: it must start with one of "
            + ", ".join(f"{s}://" for s in BROKER_SCHEMES)
            + "."
        )
    return value


def env_email(name: str, *, default: str) -> dict[str, Any]:
    value = _raw(name) or default
    try:
        return environ.Env.email_url_config(value)
    except Exception as error:
        raise ImproperlyConfigured(f"{name} is not a usable email URL: {error}") from None


def env_cache(name: str, *, default: str) -> dict[str, Any]:
    value = _raw(name) or default
    try:
        return environ.Env.cache_url_config(value)
    except Exception as error:
        raise ImproperlyConfigured(f"{name} is not a usable cache URL: {error}") from None


def env_site_url(name: str, *, default: str) -> str:
    value = _raw(name) or default
    if not value.startswith(("http://", "https://")):
        raise ImproperlyConfigured(f"{name}={value!r} must start with http:// or https://.")
    return value.rstrip("/")
