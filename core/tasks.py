from __future__ import annotations

from celery import shared_task

from .services import background_work_relay, heartbeat_record


@shared_task
def heartbeat_record_task() -> None:
    """Scheduled by beat every minute: proves beat, broker and worker all work end to end."""
    heartbeat_record(component="worker")


@shared_task(soft_time_limit=5 * 60, time_limit=6 * 60)
def background_work_relay_task() -> dict[str, int]:
    """Scheduled by beat every minute: publishes again the emails, announcements and matching
    runs whose message to the worker was lost, and resolves those stuck with a dead worker."""
    return background_work_relay()
