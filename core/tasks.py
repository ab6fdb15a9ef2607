from __future__ import annotations

from celery import shared_task

from .services import heartbeat_record


@shared_task
def heartbeat_record_task() -> None:
    """Scheduled by beat every minute: proves beat, broker and worker all work end to end."""
    heartbeat_record(component="worker")
