"""The reminder sweep: read the facts (goals.reminders), judge them (notifications.rules), and
record each due reminder once with `notify()`.

The sweep only claims and enqueues: a reminder goes to the person's daily email
(notifications.services.digest), an urgent one (a relationship at risk, an invitation) is
queued to send now; delivery, with retries and back-off, is the email task's. Each reminder's
key is unique, so two sweeps at once, or one run twice, record it once.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, Prefetch
from django.urls import get_script_prefix, reverse
from django.utils import timezone

from accounts.models import User
from matching.models import Relationship, RelationshipMember
from notifications.models import Notification
from notifications.rules import DueReminder, reminders_due, zone
from notifications.selectors import notification_keys_recorded
from notifications.services import (
    PreparedNotification,
    notification_email_refusals,
    notification_key,
    notification_prepare,
    notifications_record,
    notify,
)
from notifications.services.digest import DIGEST_LOCAL_HOUR
from programs.models import Cohort, Enrolment, Program

from .health import AT_RISK
from .models import SurveyResponse
from .reminders import (
    ReminderBatch,
    invitation_batches,
    relationship_batches,
    relationship_scope,
    request_batches,
)
from .selectors import health_for
from .services import survey_stage_open

logger = logging.getLogger(__name__)


@dataclass
class SweepResult:
    due: int = 0  # reminders the rules found due
    notified: int = 0  # recorded now
    already: int = 0  # recorded by an earlier (or concurrent) sweep
    failed: list[str] = field(default_factory=list)  # keys whose recording failed


def recorded_keys(*, keys: set[str]) -> set[str]:
    """The keys notified already, in one query: a re-run skips them without a write (the unique
    key still guards a sweep running at the same time)."""
    return notification_keys_recorded(keys=keys)


def _recipient(reminder: DueReminder, users: dict[int, User]) -> User | str:
    return users[reminder.recipient_id] if reminder.recipient_id is not None else reminder.email


# Stands for a number in a link while the link's shape is reversed once (see _link).
_NUMBER = 987_654_321


@functools.cache
def _link_shape(name: str, shape: tuple[Any, ...], prefix: str) -> str:
    # `prefix` (the script prefix reverse() starts links with) is there for the cache's key.
    return reverse(name, args=[_NUMBER + i if arg is None else arg for i, arg in enumerate(shape)])


def _link(name: str, args: tuple[Any, ...]) -> str:
    """reverse() for the sweep: a sweep asks for thousands of links of a handful of shapes, and
    reverse() costs as much as preparing the rest of a reminder; so each shape (the link's
    name and its arguments other than numbers) is reversed once and its numbers filled in."""
    shape = tuple(None if type(arg) is int else arg for arg in args)
    path = _link_shape(name, shape, get_script_prefix())
    for i, arg in enumerate(args):
        if shape[i] is None:
            path = path.replace(str(_NUMBER + i), str(arg), 1)
    return path


def _record_batch(batch: ReminderBatch, *, now: dt.datetime, result: SweepResult) -> None:
    due = reminders_due(batch.snapshot, now, batch.thresholds)
    result.due += len(due)
    if not due:
        return
    keyed = [
        (
            notification_key(
                kind=r.kind, recipient=_recipient(r, batch.users), about=r.about, period=r.period
            ),
            r,
        )
        for r in due
    ]
    keys = {key for key, _ in keyed}
    known = recorded_keys(keys=keys)
    if keys <= known:  # the usual hourly case: nothing new, and nothing to write
        result.already += len(due)
        return
    # Each reminder is prepared on its own (a failure is logged, counted and skipped: the others
    # must still be reminded), then the batch is recorded in a few statements, in one
    # transaction; a key another sweep holds is skipped there. Urgent ones (a relationship at
    # risk, an invitation) are emailed now, the rest wait for the person's daily email.
    prepared: list[PreparedNotification] = []
    refusals = notification_email_refusals(user_ids=set(batch.snapshot.people))
    for key, reminder in keyed:
        if key in known:
            result.already += 1
            continue
        outcome = _reminder_prepare(
            reminder=reminder, key=key, users=batch.users, refusals=refusals
        )
        if isinstance(outcome, str):
            result.failed.append(outcome)
        else:
            prepared.append(outcome)
    with transaction.atomic():
        recorded = notifications_record(prepared=prepared)
    result.notified += len(recorded)
    result.already += len(prepared) - len(recorded)


def _reminder_prepare(
    *,
    reminder: DueReminder,
    key: str,
    users: dict[int, User],
    refusals: set[tuple[int, str]],
) -> PreparedNotification | str:
    """The reminder ready to record, or its key when preparing it failed (logged)."""
    recipient = _recipient(reminder, users)
    name, args = reminder.link
    try:
        return notification_prepare(
            kind=Notification.Kind(reminder.kind),
            recipient=recipient,
            about=reminder.about,
            context=dict(reminder.context),
            url=_link(name, args) if name else "",
            period=reminder.period,
            key=key,
            email_refused=(reminder.recipient_id, reminder.kind) in refusals,
            delivery=Notification.Delivery.EMAIL_NOW
            if reminder.urgent
            else Notification.Delivery.EMAIL_DAILY,
        )
    except Exception:
        logger.exception("reminder %s could not be prepared", key)
        return key


@dataclass(frozen=True)
class SweepPart:
    """A share of one sweep that a worker can take on its own: the relationships with a pk from
    `first` to `last`, and (for one part only) the waiting mentor requests and invitations."""

    first: int
    last: int
    requests_and_invitations: bool


# Relationships per part: small enough that the parts of a large organisation spread over the
# workers (and a part lost with a worker costs little), large enough that a part's fixed
# reads (programs, coordinators) stay negligible.
PART_SIZE = 10_000


def reminder_sweep_parts(*, now: dt.datetime, size: int | None = None) -> list[SweepPart]:
    """The sweep at `now` cut into parts of about `size` relationships, in pk order, in one
    query (of pks only). Always at least one part: the first also sweeps requests and
    invitations."""
    size = size or PART_SIZE
    pks = list(relationship_scope(now=now).order_by("pk").values_list("pk", flat=True))
    if not pks:
        return [SweepPart(first=0, last=0, requests_and_invitations=True)]
    return [
        SweepPart(
            first=pks[start],
            last=pks[min(start + size, len(pks)) - 1],
            requests_and_invitations=start == 0,
        )
        for start in range(0, len(pks), size)
    ]


def reminder_sweep(*, now: dt.datetime | None = None, part: SweepPart | None = None) -> SweepResult:
    """Record every reminder due at `now` (default: now) for active relationships, waiting mentor
    requests and unaccepted invitations; with `part`, only that part's (reminder_sweep_parts).
    Safe to run twice or concurrently: each reminder's key is recorded once. Returns counts,
    and the keys that failed (logged, not raised)."""
    now = now or timezone.now()
    result = SweepResult()
    sources: list[Iterable[ReminderBatch]] = [
        relationship_batches(now=now, first=part.first, last=part.last)
        if part
        else relationship_batches(now=now)
    ]
    if part is None or part.requests_and_invitations:
        sources += [request_batches(), invitation_batches(now=now)]
    for batches in sources:
        for batch in batches:
            _record_batch(batch, now=now, result=result)
    if result.failed:
        logger.warning("reminder sweep: %s of %s failed", len(result.failed), result.due)
    return result


# --- The weekly coordinator summary ------------------------------------------------------------

DIGEST_WEEKDAY = 0  # Monday


def _is_summary_hour(now: dt.datetime, time_zone: str) -> bool:
    local = now.astimezone(zone(time_zone))
    return local.weekday() == DIGEST_WEEKDAY and local.hour == DIGEST_LOCAL_HOUR


def coordinator_figures(*, program_ids: list[int], now: dt.datetime) -> dict[int, dict[str, Any]]:
    """Per program: relationships at risk (with why), applications waiting for approval, approved
    people not in an active relationship, and open surveys answered by fewer members than the
    program's threshold. A fixed number of queries however many programs and people."""
    today = timezone.localdate(now)
    programs = {p.pk: p for p in Program.objects.filter(pk__in=program_ids)}
    figures: dict[int, dict[str, Any]] = {
        pk: {
            "name": p.name,
            "at_risk": [],
            "approvals_waiting": 0,
            "unmatched": 0,
            "low_surveys": [],
            "response_percent": p.reminder_survey_response_percent,
        }
        for pk, p in programs.items()
    }
    relationships = list(
        Relationship.objects.filter(
            cohort__program_id__in=programs,
            status=Relationship.Status.ACTIVE,
            cohort__status__in=[Cohort.Status.ACTIVE, Cohort.Status.CLOSING],
        )
        .select_related("cohort__program")
        .prefetch_related(
            Prefetch(
                "members",
                queryset=RelationshipMember.objects.select_related("enrolment__user").order_by(
                    "role", "pk"
                ),
            )
        )
        .order_by("pk")
    )
    health = health_for(relationships=relationships, today=today)
    for relationship in relationships:
        if health[relationship.pk].status == AT_RISK:
            figures[relationship.cohort.program_id]["at_risk"].append(
                {
                    "members": ", ".join(
                        m.enrolment.user.display_name for m in relationship.members.all()
                    ),
                    "reasons": list(health[relationship.pk].reasons),
                    "url": reverse("goals:relationship_home", args=[relationship.pk]),
                }
            )
    for program_id, count in (
        Enrolment.objects.filter(
            cohort__program_id__in=programs,
            status=Enrolment.Status.APPLIED,
            cohort__status__in=[Cohort.Status.ENROLLING, Cohort.Status.MATCHING],
        )
        .values("cohort__program_id")
        .annotate(count=Count("pk"))
        .values_list("cohort__program_id", "count")
    ):
        figures[program_id]["approvals_waiting"] = count
    for program_id, count in (
        Enrolment.objects.filter(
            cohort__program_id__in=programs,
            status=Enrolment.Status.APPROVED,
            cohort__status__in=[Cohort.Status.MATCHING, Cohort.Status.ACTIVE],
        )
        .exclude(relationship_memberships__relationship__status=Relationship.Status.ACTIVE)
        .values("cohort__program_id")
        .annotate(count=Count("pk", distinct=True))
        .values_list("cohort__program_id", "count")
    ):
        figures[program_id]["unmatched"] = count
    # Survey response rates, per cohort and open stage.
    cohorts: dict[int, Cohort] = {}
    members_per_cohort: dict[int, int] = defaultdict(int)
    open_stages: dict[int, list[str]] = {}
    for relationship in relationships:
        cohort = relationship.cohort
        cohorts[cohort.pk] = cohort
        members_per_cohort[cohort.pk] += len(relationship.members.all())
        open_stages.setdefault(
            cohort.pk,
            [
                stage
                for stage in SurveyResponse.Stage.values
                if survey_stage_open(relationship=relationship, stage=stage, today=today)
            ],
        )
    answered = {
        (cohort_id, stage): count
        for cohort_id, stage, count in SurveyResponse.objects.filter(
            relationship__in=[r.pk for r in relationships]
        )
        .values("relationship__cohort_id", "stage")
        .annotate(count=Count("pk"))
        .values_list("relationship__cohort_id", "stage", "count")
    }
    for cohort_id, stages in open_stages.items():
        cohort = cohorts[cohort_id]
        threshold = figures[cohort.program_id]["response_percent"]
        for stage in stages:
            members = members_per_cohort[cohort_id]
            percent = round(100 * answered.get((cohort_id, stage), 0) / members) if members else 0
            if percent < threshold:
                figures[cohort.program_id]["low_surveys"].append(
                    {"cohort": cohort.name, "stage": stage, "percent": percent}
                )
    return figures


def coordinator_digest_send(*, now: dt.datetime | None = None) -> int:
    """Email each coordinator whose local time is Monday DIGEST_LOCAL_HOUR their programs' weekly
    figures (coordinator_figures). Once per coordinator and ISO week (the key holds it), so the
    hourly task may run twice. Returns how many were queued; a failure for one coordinator is
    logged and the others still get theirs."""
    now = now or timezone.now()
    links = list(
        Program.coordinators.through.objects.select_related("user").order_by(
            "user_id", "program_id"
        )
    )
    programs_of: dict[int, list[int]] = defaultdict(list)
    coordinators: dict[int, User] = {}
    for link in links:
        if link.user.is_active and _is_summary_hour(now, link.user.time_zone):
            programs_of[link.user_id].append(link.program_id)
            coordinators[link.user_id] = link.user
    if not coordinators:
        return 0
    figures = coordinator_figures(
        program_ids=sorted({pk for pks in programs_of.values() for pk in pks}), now=now
    )
    sent = 0
    for user_id, user in coordinators.items():
        year, week, _ = now.astimezone(zone(user.time_zone)).isocalendar()
        programs = [figures[pk] for pk in programs_of[user_id] if pk in figures]
        try:
            with transaction.atomic():
                notification = notify(
                    kind=Notification.Kind.COORDINATOR_DIGEST,
                    recipient=user,
                    about=None,
                    context={
                        "programs": programs,
                        "week": f"{year}-W{week:02d}",
                        "at_risk_total": sum(len(p["at_risk"]) for p in programs),
                        "approvals_total": sum(p["approvals_waiting"] for p in programs),
                    },
                    url=reverse("programs:program_list"),
                    period=f"{year}-W{week:02d}",
                )
        except Exception:
            logger.exception("weekly summary for coordinator %s failed", user_id)
            continue
        sent += notification is not None
    return sent
