from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .models import Heartbeat

BROKER_TIMEOUT_SECONDS = 2


@dataclass(frozen=True)
class ComponentStatus:
    ok: bool
    detail: str


def database_status() -> ComponentStatus:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return ComponentStatus(ok=False, detail=f"unreachable: {type(error).__name__}")
    return ComponentStatus(ok=True, detail=connection.vendor)


def broker_status() -> ComponentStatus:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return ComponentStatus(ok=True, detail="in-process (no broker configured)")
    from mentorship.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception as error:
        return ComponentStatus(ok=False, detail=f"unreachable: {type(error).__name__}")
    return ComponentStatus(ok=True, detail=conn.transport_cls)


def health_report() -> tuple[bool, dict[str, Any]]:
    """Database and broker decide health; the worker's heartbeat age is information only (beat
    may be stopped on purpose in a small install)."""
    database = database_status()
    broker = broker_status()
    report: dict[str, Any] = {
        "database": {"ok": database.ok, "detail": database.detail},
        "broker": {"ok": broker.ok, "detail": broker.detail},
    }
    if database.ok:
        heartbeat = Heartbeat.objects.filter(component="worker").first()
        report["worker_last_seen_seconds_ago"] = (
            round((timezone.now() - heartbeat.seen_at).total_seconds()) if heartbeat else None
        )
    healthy = database.ok and broker.ok
    report["status"] = "ok" if healthy else "unavailable"
    return healthy, report
