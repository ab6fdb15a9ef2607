"""What the dashboards write: the record of a coordinator's nudge to a pair, so that a pair is
reminded at most once a day however often the button is pressed."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from matching.models import Relationship


class Nudge(models.Model):
    """A reminder a coordinator sent a relationship's members from a dashboard. One a day per
    relationship: the unique constraint holds it even when two coordinators press at once."""

    relationship = models.ForeignKey(Relationship, on_delete=models.CASCADE, related_name="nudges")
    day = models.DateField(help_text="The day it was sent (the server's date).")
    nudged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recipients = models.PositiveSmallIntegerField(
        default=0, help_text="Members reminded (the notification centre, and email unless off)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["relationship", "day"], name="nudge_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"Nudge to relationship {self.relationship_id} on {self.day}"
