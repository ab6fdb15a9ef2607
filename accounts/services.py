from __future__ import annotations

from django.db import transaction

from .models import User


@transaction.atomic
def user_update_settings(*, user: User, display_name: str, time_zone: str) -> User:
    """Change how a person is named and which time zone their pages use."""
    user.display_name = display_name.strip()
    user.time_zone = time_zone
    user.full_clean()
    user.save(update_fields=["display_name", "time_zone"])
    return user
