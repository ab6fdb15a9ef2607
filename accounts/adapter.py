from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.forms import BaseForm
from django.http import HttpRequest

from notifications.services import email_queue


class AccountAdapter(DefaultAccountAdapter):
    """allauth, bent to our rules: emails leave through a task, and signup fills our fields."""

    def save_user(
        self, request: HttpRequest, user: Any, form: BaseForm, commit: bool = True
    ) -> Any:
        user = super().save_user(request, user, form, commit=False)
        user.display_name = form.cleaned_data["display_name"].strip()
        user.time_zone = form.cleaned_data.get("time_zone") or "UTC"
        if commit:
            user.save()
        return user

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        # Rendered now, while the request is there to build links; sent by a worker after the
        # transaction commits, so a slow mail server never slows a sign-up.
        message = self.render_mail(template_prefix, email, self._mail_context(email, context))
        html_body = next(
            (
                content
                for content, mimetype in getattr(message, "alternatives", [])
                if mimetype == "text/html"
            ),
            "",
        )
        email_queue(
            to=list(message.to),
            subject=message.subject,
            text_body=message.body,
            html_body=html_body,
        )

    def _mail_context(self, email: str, context: dict[str, Any]) -> dict[str, Any]:
        from allauth.core import context as allauth_context
        from django.contrib.sites.shortcuts import get_current_site

        request = allauth_context.request
        return {
            "request": request,
            "email": email,
            "current_site": get_current_site(request),
            **context,
        }
