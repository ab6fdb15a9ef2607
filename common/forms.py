"""Showing a service's ValidationError on the form that called it."""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


def form_add_service_error(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's `ValidationError` on `form`: field errors beside their field when the
    form has it, everything else at the top of the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for name, messages in error.message_dict.items():
        field = name if name in form.fields and name != NON_FIELD_ERRORS else None
        form.add_error(field, messages)


def service_error_text(error: ValidationError) -> str:
    """A service's `ValidationError` as one sentence for a flash message."""
    return " ".join(error.messages)
