"""Template components shared by every app: the status badge and the breadcrumb trail.

`{% load components %}`, then:
- `{% status_badge cohort %}` (or `{% status_badge proposal "decision" %}`): the object's choice as
  a badge, its tone from TONES below, its text from the choice's label.
- `{% breadcrumbs "Programs" programs_url program.name program_url "Import" %}`: label/URL pairs,
  then the current page's label (the URLs come from `{% url ... as programs_url %}`).
- `{% submission_token_input %}`: a fresh one-time token for a create form written by hand and
  repeated on a page (one per check-in), so that sending it twice creates once.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import template
from django.db import models
from django.utils.html import format_html

from common.forms import SUBMISSION_TOKEN
from goals import health
from goals.models import Goal
from matching.models import MatchRun, MentorRequest, Proposal, Relationship
from programs.models import Cohort, Competency, Enrolment, ParticipantImport

register = template.Library()

# The one tone map: (model, field) -> {choice value: tone}. Tones are the badge--<tone> classes of
# static/css/components.css; a value missing from its map is "neutral".
TONES: dict[tuple[type, str], dict[str, str]] = {
    (Cohort, "status"): {
        Cohort.Status.ENROLLING: "info",
        Cohort.Status.MATCHING: "info",
        Cohort.Status.ACTIVE: "success",
        Cohort.Status.CLOSING: "warning",
    },
    (Enrolment, "status"): {
        Enrolment.Status.INVITED: "info",
        Enrolment.Status.APPLIED: "info",
        Enrolment.Status.APPROVED: "success",
        Enrolment.Status.WAITLISTED: "warning",
        Enrolment.Status.DECLINED: "danger",
    },
    (Competency, "status"): {
        Competency.Status.APPROVED: "success",
        Competency.Status.SUGGESTED: "warning",
    },
    (ParticipantImport, "status"): {
        ParticipantImport.Status.PENDING: "info",
        ParticipantImport.Status.IMPORTED: "success",
    },
    (MatchRun, "status"): {
        MatchRun.Status.RUNNING: "info",
        MatchRun.Status.SUCCEEDED: "success",
        MatchRun.Status.FAILED: "danger",
    },
    (Proposal, "decision"): {
        Proposal.Decision.ACCEPTED: "success",
        Proposal.Decision.REJECTED: "danger",
    },
    (Relationship, "status"): {Relationship.Status.ACTIVE: "success"},
    (MentorRequest, "status"): {
        MentorRequest.Status.PENDING: "info",
        MentorRequest.Status.QUESTION: "warning",
        MentorRequest.Status.ACCEPTED: "success",
        MentorRequest.Status.DECLINED: "danger",
    },
    (Goal, "status"): {
        Goal.Status.ON_TRACK: "info",
        Goal.Status.AT_RISK: "warning",
        Goal.Status.DONE: "success",
    },
    # Not a model: goals.health judges a relationship; its statuses are plain constants.
    (health.Health, "status"): {
        health.ON_TRACK: "success",
        health.NEEDS_ATTENTION: "warning",
        health.AT_RISK: "danger",
    },
}


# Looked up once per class and field: a list page draws a hundred badges.
_TONES_OF: dict[tuple[type, str], dict[str, str]] = {}
_LABELS_OF: dict[tuple[type, str], dict[Any, Any]] = {}


def _tones(klass: type, field: str) -> dict[str, str]:
    if (klass, field) not in _TONES_OF:
        _TONES_OF[klass, field] = next(
            TONES[(k, field)] for k in klass.__mro__ if (k, field) in TONES
        )
    return _TONES_OF[klass, field]


def _choice_labels(model: type[models.Model], field: str) -> dict[Any, Any]:
    """What get_<field>_display looks the value up in. The labels stay lazy: each is
    translated when a badge is drawn."""
    if (model, field) not in _LABELS_OF:
        _LABELS_OF[model, field] = dict(getattr(model._meta.get_field(field), "flatchoices", []))
    return _LABELS_OF[model, field]


def _label(obj: Any, field: str) -> str:
    """The choice's label, with the two details a badge adds to it: how far a running match
    run is, and that a relationship ended early."""
    # A model field's label comes from its choices, as get_<field>_display gives it;
    # goals.health.Health knows its own.
    if isinstance(obj, models.Model):
        value = getattr(obj, field)
        label = str(_choice_labels(type(obj), field).get(value, value))
    else:
        label = obj.label
    if isinstance(obj, MatchRun) and obj.status == MatchRun.Status.RUNNING:
        return f"{label} · {obj.progress}%"
    if isinstance(obj, Relationship) and obj.outcome == Relationship.Outcome.ENDED_EARLY:
        return f"{label} early"
    return label


@register.simple_tag
def status_badge(obj: Any, field: str = "status", label: str | None = None) -> str:
    """`obj`'s `field` choice as a badge; `label` replaces the choice's label when a page words
    it more briefly."""
    tone = _tones(type(obj), field).get(getattr(obj, field), "neutral")
    text = _label(obj, field) if label is None else label
    return format_html('<span class="badge badge--{}">{}</span>', tone, text)


@register.inclusion_tag("includes/breadcrumbs.html")
def breadcrumbs(*trail: Any) -> dict[str, Any]:
    """Label/URL pairs leading to the current page, then the current page's label. An empty
    last label makes the last pair the current page, so a section's trail serves both the
    section's own page and the pages under it."""
    if len(trail) % 2 != 1:
        raise template.TemplateSyntaxError(
            "breadcrumbs takes label/URL pairs and then the current page's label"
        )
    links = list(zip(trail[:-1:2], trail[1:-1:2], strict=True))
    current = trail[-1]
    if not current and links:
        current = links.pop()[0]
    return {"links": links, "current": current}


@register.simple_tag
def concat(*parts: Any) -> str:
    """`{% concat "Run " run.pk as label %}`: a breadcrumb label or URL built from text and
    values (the `add` filter gives "" when one side is a number)."""
    return "".join(str(part) for part in parts)


@register.simple_tag
def submission_token_input() -> str:
    """A hidden one-time token, new at each use (see common.forms.SubmissionTokenMixin)."""
    return format_html('<input type="hidden" name="{}" value="{}">', SUBMISSION_TOKEN, uuid.uuid4())
