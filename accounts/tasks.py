from __future__ import annotations

from celery import shared_task

from .services import submission_tokens_purge


@shared_task
def submission_tokens_purge_task() -> int:
    """Daily: forget the one-time tokens of forms sent long ago (one DELETE)."""
    return submission_tokens_purge()
