from __future__ import annotations

from django.db import models


class Heartbeat(models.Model):
    """The last time a background component proved it was alive (the worker, via beat)."""

    component = models.CharField(max_length=50, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.component} at {self.seen_at:%Y-%m-%d %H:%M:%S}"
