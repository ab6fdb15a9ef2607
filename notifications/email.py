"""Rendering our own emails from a triplet of templates:
`emails/<name>-subject.txt`, `emails/<name>-body.txt` and `emails/<name>-body.html`."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template import Context
from django.template.base import Template
from django.template.loader import get_template, render_to_string
from django.utils import timezone


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text_body: str
    html_body: str


def email_render(*, name: str, context: dict[str, Any]) -> RenderedEmail:
    """Render the triplet, then the footer every email to a person ends with: how to stop this
    kind of email in one click (when `unsubscribe_url` is given) and where to choose the rest."""
    full_context = {"site_url": settings.SITE_URL, **context}
    subject = text_render(f"emails/{name}-subject.txt", full_context)
    text_body = text_render(f"emails/{name}-body.txt", full_context).strip()
    html_body = render_to_string(f"emails/{name}-body.html", full_context).strip()
    if context.get("recipient") is not None:
        text_body += "\n\n" + text_render("emails/footer.txt", full_context).strip()
        html_body += "\n" + render_to_string("emails/footer.html", full_context).strip()
    return RenderedEmail(
        subject=" ".join(subject.split()), text_body=text_body, html_body=html_body
    )


def text_render(name: str, context: dict[str, Any]) -> str:
    """A plain-text template (a subject line, a text body) rendered without HTML escaping: a
    partner called O'Brien must not read "O&#x27;Brien" in a subject or a text email (the
    pages that show a title escape it there). Rendered straight from the compiled template,
    which costs a third of render_to_string: the reminder sweep renders a title per reminder."""
    template = get_template(name).template  # type: ignore[attr-defined]
    return template.render(Context(context, autoescape=False))


# Rendered subject lines, by template, the values of the names it uses and (when one is a moment)
# the zone. A sweep titles a hundred thousand reminders, more than half of them with one of a
# few dozen lines ("The midpoint survey waits for your answers").
_lines: dict[tuple[Any, ...], str] = {}
LINES_REMEMBERED = 20_000
_names: dict[Template, frozenset[str]] = {}
_TAG = re.compile(r"\{[{%](.*?)[}%]\}", re.DOTALL)
_NAME = re.compile(r"[A-Za-z_]\w*")


def _names_used(template: Template) -> frozenset[str]:
    """Every word inside the template's tags and variables: a superset of the context names it
    reads (subject templates include nothing, so none is read from elsewhere)."""
    if template not in _names:
        _names[template] = frozenset(
            word for inner in _TAG.findall(template.source) for word in _NAME.findall(inner)
        )
    return _names[template]


def subject_line(name: str, context: dict[str, Any], *, time_zone: str) -> str:
    """A subject template rendered as one line of plain text, its moments in `time_zone`;
    remembered for the values it uses, so the same line is rendered once."""
    template = get_template(name).template  # type: ignore[attr-defined]
    used = sorted(_names_used(template) & context.keys())
    values = tuple(context[word] for word in used)
    has_moment = any(isinstance(value, dt.datetime) for value in values)
    key = (template, time_zone if has_moment else "", *zip(used, values, strict=True))
    try:
        return _lines[key]
    except TypeError:  # a value that cannot be a key: rendered each time
        key = ()
    except KeyError:
        pass
    if has_moment:
        with timezone.override(time_zone):
            line = " ".join(template.render(Context(context, autoescape=False)).split())
    else:
        line = " ".join(template.render(Context(context, autoescape=False)).split())
    if key:
        if len(_lines) >= LINES_REMEMBERED:
            _lines.clear()
        _lines[key] = line
    return line
