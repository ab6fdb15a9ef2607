"""Checks the services of a run share, kept apart from `runs` so that `publish` can use them
without importing a module that queues tasks (which would close an import circle)."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from matching.models import MatchRun

from .messages import RUN_ALREADY_PUBLISHED, RUN_BEING_PUBLISHED, RUN_NOT_FINISHED


def run_editable_check(run: MatchRun) -> None:
    """Raise unless the run's pairs may still change: it finished, and nobody has pressed
    Publish (once a job publishes it, what the coordinator saw is what people get)."""
    if run.status != MatchRun.Status.SUCCEEDED:
        raise ValidationError(RUN_NOT_FINISHED)
    if run.published_at is not None:
        raise ValidationError(RUN_ALREADY_PUBLISHED)
    if run.publish_job_id is not None:
        raise ValidationError(RUN_BEING_PUBLISHED)
