"""Rendering our own emails from a triplet of templates:
`emails/<name>-subject.txt`, `emails/<name>-body.txt` and `emails/<name>-body.html`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text_body: str
    html_body: str


def email_render(*, name: str, context: dict[str, Any]) -> RenderedEmail:
    full_context = {"site_url": settings.SITE_URL, **context}
    subject = render_to_string(f"emails/{name}-subject.txt", full_context)
    return RenderedEmail(
        subject=" ".join(subject.split()),
        text_body=render_to_string(f"emails/{name}-body.txt", full_context).strip(),
        html_body=render_to_string(f"emails/{name}-body.html", full_context).strip(),
    )
