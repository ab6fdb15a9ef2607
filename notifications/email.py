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
    """Render the triplet, then the footer every email to a person ends with: how to stop this
    kind of email in one click (when `unsubscribe_url` is given) and where to choose the rest."""
    full_context = {"site_url": settings.SITE_URL, **context}
    subject = render_to_string(f"emails/{name}-subject.txt", full_context)
    text_body = render_to_string(f"emails/{name}-body.txt", full_context).strip()
    html_body = render_to_string(f"emails/{name}-body.html", full_context).strip()
    if context.get("recipient") is not None:
        text_body += "\n\n" + render_to_string("emails/footer.txt", full_context).strip()
        html_body += "\n" + render_to_string("emails/footer.html", full_context).strip()
    return RenderedEmail(
        subject=" ".join(subject.split()), text_body=text_body, html_body=html_body
    )
