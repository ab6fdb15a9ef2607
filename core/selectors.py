"""What /healthz reports: whether this site can serve (database), whether its background work
is alive (worker heartbeat), and what runs degraded (broker, cache, an outbox that lags)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from common.tasks import broker_backlog, broker_breaker
from matching.models import MatchRun
from notifications.selectors import outbound_email_backlog, outbound_email_count_by_status
from programs.models import Announcement

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

    if broker_breaker.is_open:  # failed seconds ago: a probe need not wait to learn it again
        return ComponentStatus(
            ok=False, detail=f"down ({broker_breaker.last_error}); writes are kept for the relay"
        )
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception as error:
        broker_breaker.failed(error)
        return ComponentStatus(
            ok=False, detail=f"down ({type(error).__name__}); writes are kept for the relay"
        )
    broker_breaker.succeeded()
    return ComponentStatus(ok=True, detail=conn.transport_cls)


def cache_status() -> ComponentStatus:
    status = getattr(cache, "status", None)  # common.cache.FallbackRedisCache answers for Redis
    if status is None:
        return ComponentStatus(ok=True, detail=type(cache).__name__)
    ok, detail = status()
    return ComponentStatus(ok=ok, detail=detail)


def worker_status() -> tuple[ComponentStatus, int | None]:
    """Whether the worker ran the heartbeat task (beat schedules it every minute) within
    HEALTHZ_WORKER_STALE_SECONDS, and how many seconds ago it last did."""
    seen_at = Heartbeat.objects.filter(component="worker").values_list("seen_at", flat=True).first()
    seconds_ago = round((timezone.now() - seen_at).total_seconds()) if seen_at else None
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return ComponentStatus(ok=True, detail="in-process (no worker needed)"), seconds_ago
    stale_after = settings.HEALTHZ_WORKER_STALE_SECONDS
    if seconds_ago is None:
        never = "never seen: are the worker and beat running?"
        return ComponentStatus(ok=False, detail=never), None
    if seconds_ago > stale_after:
        return (
            ComponentStatus(ok=False, detail=f"stale: last seen {seconds_ago}s ago"),
            seconds_ago,
        )
    return ComponentStatus(ok=True, detail="alive"), seconds_ago


def health_report(*, full: bool = False) -> tuple[bool, dict[str, Any]]:
    """(healthy, report). Unhealthy (the probe should answer 503) when the database is down or,
    with a broker configured, the worker's heartbeat is stale: the site cannot serve, or its
    emails and jobs have stopped. A broker or cache that is down, or an outbox that lags, is
    "degraded": pages and writes still work (writes wait in the outbox for the relay).

    Three queries on the cheap path; `full` adds counts by status for a person to read."""
    report: dict[str, Any] = {}
    database = database_status()
    report["database"] = asdict(database)
    if not database.ok:
        report |= {"status": "unavailable", "degraded": ["database"]}
        return False, report
    broker = broker_status()
    cache_state = cache_status()
    worker, seconds_ago = worker_status()
    stuck_after = dt.timedelta(seconds=settings.OUTBOX_SENDING_TIMEOUT_SECONDS)
    outbox = outbound_email_backlog(stuck_after=stuck_after)
    oldest = outbox["oldest_queued_seconds"]
    outbox_ok = not outbox["stuck"] and (
        oldest is None or oldest <= settings.HEALTHZ_OUTBOX_LAG_SECONDS
    )
    report |= {
        "broker": asdict(broker),
        "cache": asdict(cache_state),
        "worker": {
            **asdict(worker),
            "last_seen_seconds_ago": seconds_ago,
            "stale_after_seconds": settings.HEALTHZ_WORKER_STALE_SECONDS,
        },
        "outbox": {"ok": outbox_ok, **outbox},
    }
    states = {
        "broker": broker.ok,
        "cache": cache_state.ok,
        "worker": worker.ok,
        "outbox": outbox_ok,
    }
    report["degraded"] = [name for name, ok in states.items() if not ok]
    healthy = worker.ok
    report["status"] = "unavailable" if not healthy else "degraded" if report["degraded"] else "ok"
    if full:
        report |= _full_report()
        report["broker"]["backlog"] = broker_backlog() if broker.ok else None
    return healthy, report


def _full_report() -> dict[str, Any]:
    def by_status(model: Any, statuses: list[str]) -> dict[str, int]:
        counts = dict(
            model.objects.filter(status__in=statuses)
            .order_by()
            .values_list("status")
            .annotate(n=Count("pk"))
        )
        return {status: counts.get(status, 0) for status in statuses}

    return {
        "checked_at": timezone.now().isoformat(timespec="seconds"),
        "emails_by_status": outbound_email_count_by_status(),
        "announcements_unfinished": by_status(
            Announcement, [Announcement.Status.QUEUED, Announcement.Status.SENDING]
        ),
        "match_runs_unfinished": by_status(
            MatchRun, [MatchRun.Status.QUEUED, MatchRun.Status.RUNNING]
        ),
        "thresholds_seconds": {
            "worker_stale": settings.HEALTHZ_WORKER_STALE_SECONDS,
            "outbox_lag": settings.HEALTHZ_OUTBOX_LAG_SECONDS,
            "relay_grace": settings.OUTBOX_RELAY_GRACE_SECONDS,
            "email_sending_timeout": settings.OUTBOX_SENDING_TIMEOUT_SECONDS,
            "announcement_stalled": settings.ANNOUNCEMENT_STALLED_SECONDS,
            "match_run_stuck": settings.MATCH_RUN_STUCK_SECONDS,
        },
    }
