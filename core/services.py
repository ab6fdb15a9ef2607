from __future__ import annotations

from django.utils import timezone

from .models import Heartbeat


def heartbeat_record(*, component: str) -> Heartbeat:
    """Note that `component` is alive now. Idempotent: one row per component, updated in place."""
    heartbeat, _ = Heartbeat.objects.update_or_create(
        component=component, defaults={"seen_at": timezone.now()}
    )
    return heartbeat
