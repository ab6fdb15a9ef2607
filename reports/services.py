"""Writes of the reports app: a coordinator's nudge to a pair from a dashboard."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from goals.models import Agreement
from goals.selectors import health_for
from matching.models import Relationship, RelationshipMember
from notifications.models import Notification
from notifications.services import Message, notify_many

from .models import Nudge
from .selectors.dashboard import reasons_for_coordinator

NUDGE_ENDED = "This relationship has ended: there is nobody to remind."
NUDGE_ALREADY = "This pair was already reminded today. Try again tomorrow, or write to them."
NUDGE_NOBODY = "This relationship has no members to remind."
NUDGE_SENT = "Reminder sent to {names}."


@transaction.atomic
def relationship_nudge(
    *, relationship: Relationship, nudged_by: User, today: dt.date | None = None
) -> Nudge:
    """Remind every member of `relationship` to meet and log it, in their notification centre
    and by email (the kind "check-in overdue", which they may have turned off by email), and
    record the nudge. A relationship is nudged at most once a day: a second nudge the same day,
    from anyone, raises ValidationError(NUDGE_ALREADY) and sends nothing (the record's unique
    constraint decides, so two coordinators pressing at once send one reminder). The message
    names the coordinator and the reasons the dashboard showed; never a note, a reflection or
    anyone's answer."""
    today = today or timezone.localdate()
    if relationship.status != Relationship.Status.ACTIVE:
        raise ValidationError(NUDGE_ENDED)
    members = list(
        RelationshipMember.objects.filter(relationship=relationship)
        .select_related("enrolment__user")
        .order_by("role", "pk")
    )
    if not members:
        raise ValidationError(NUDGE_NOBODY)
    try:
        with transaction.atomic():
            nudge = Nudge.objects.create(
                relationship=relationship, day=today, nudged_by=nudged_by, recipients=len(members)
            )
    except IntegrityError:
        raise ValidationError(NUDGE_ALREADY) from None

    program = relationship.cohort.program
    agreement = Agreement.objects.filter(relationship=relationship).first()
    cadence = agreement.meeting_cadence_days if agreement else program.meeting_cadence_days
    health = health_for(relationships=[relationship], today=today)[relationship.pk]
    last_check_in_on = (
        relationship.check_ins.order_by("-met_on").values_list("met_on", flat=True).first()
    )
    since = last_check_in_on or timezone.localdate(relationship.started_at)
    url = reverse("goals:check_in_create", args=[relationship.pk])
    messages = []
    for member in members:
        others = [m.enrolment.user.display_name for m in members if m.pk != member.pk]
        messages.append(
            Message(
                kind=Notification.Kind.CHECK_IN_OVERDUE,
                recipient=member.enrolment.user,
                about=relationship,
                url=url,
                # Its own period: the sweep's overdue reminders are keyed by cadence periods.
                period=f"nudge-{today.isoformat()}",
                context={
                    "nudge": True,
                    "nudged_by": nudged_by.display_name or "Your coordinator",
                    "program_name": program.name,
                    "partners": ", ".join(others),
                    "reasons": reasons_for_coordinator(health.reasons),
                    "last_check_in_on": last_check_in_on,
                    "days_since": (today - since).days,
                    "cadence_days": cadence,
                },
            )
        )
    notify_many(messages=messages)
    return nudge
