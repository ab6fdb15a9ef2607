"""Showing a service's ValidationError on the form that called it, and the one-time token that
keeps a create form sent twice from creating twice."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

# The name of a create form's one-time token, as forms and hand-written templates post it.
SUBMISSION_TOKEN = "submission_token"  # noqa: S105 (a field name, not a secret)


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


class _SubmissionTokenField(forms.Field):
    """A UUID; one that is not (an edited page) counts as none, never as an error to show."""

    widget = forms.HiddenInput

    def to_python(self, value: Any) -> uuid.UUID | None:
        if isinstance(value, uuid.UUID):
            return value
        try:
            return uuid.UUID(str(value)) if value else None
        except ValueError:
            return None


class SubmissionTokenMixin(forms.BaseForm):
    """For a form that creates something: a hidden one-time `submission_token`, fresh each time
    the empty form is drawn and sent back with it. The view passes
    `cleaned_data["submission_token"]` to the create service, which claims it
    (`accounts.services.submission_claim`): the same page sent twice creates once.

    Put it first: `class GoalCreateForm(SubmissionTokenMixin, forms.Form)`. A form drawn by hand
    renders `{{ form.submission_token }}`; a form repeated on a page (one per item), or a
    button with no form class, uses `{% submission_token_input %}` from the `components`
    template library instead, and its view reads it with `submission_token_of(request.POST)`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[SUBMISSION_TOKEN] = _SubmissionTokenField(required=False, initial=uuid.uuid4)


def submission_token_of(data: Mapping[str, Any]) -> uuid.UUID | None:
    """The one-time token in posted `data`, or None (missing or not a token)."""
    return _SubmissionTokenField(required=False).clean(data.get(SUBMISSION_TOKEN))
