from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.utils import timezone

from common.tasks import broker_backlog
from matching.services.runs import match_run_fail_stuck, match_run_relay
from notifications.services.outbound import email_recover_stuck, email_relay_due
from programs.services.announcements import announcement_relay

from .models import Heartbeat

logger = logging.getLogger(__name__)


def heartbeat_record(*, component: str) -> Heartbeat:
    """Note that `component` is alive now. Idempotent: one row per component, updated in place."""
    heartbeat, _ = Heartbeat.objects.update_or_create(
        component=component, defaults={"seen_at": timezone.now()}
    )
    return heartbeat


def background_work_relay() -> dict[str, int]:
    """Find background work whose message to the worker was lost and publish it again (the
    outbox rules are in each service's docstring). Runs every minute, from beat; every step is
    safe to run twice or twice at once, and a step that fails is logged and does not stop the
    others. Returns what each step did, for the worker's log.

    Stuck work (an email SENDING, a run "running" past its timeout) is resolved always.
    Publishing again is skipped while the broker's queue already holds OUTBOX_RELAY_BATCH_SIZE
    messages: the worker is behind, not losing messages, and more copies would only lengthen
    the queue it has to get through."""
    batch = settings.OUTBOX_RELAY_BATCH_SIZE
    backlog = broker_backlog()
    republish = backlog is None or backlog < batch
    if not republish:
        logger.info("the broker holds %s messages: the worker is behind; not relaying", backlog)
    steps: dict[str, Callable[[], int]] = {
        "emails_resent_after_stuck": lambda: email_recover_stuck(limit=batch).resent,
        "match_runs_failed_after_stuck": match_run_fail_stuck,
    }
    if republish:
        steps |= {
            "emails_relayed": lambda: email_relay_due(limit=batch),
            "announcements_relayed": announcement_relay,
            "match_runs_relayed": match_run_relay,
        }
    done: dict[str, int] = {"backlog": backlog if backlog is not None else -1}
    for name, step in steps.items():
        try:
            done[name] = step()
        except Exception:
            logger.exception("relay step %s failed; the next run tries again", name)
            done[name] = -1
    return done
