"""Self-service forms: a mentee ranks recommended mentors, answers a mentor's question; a mentor
accepts, declines or asks. They validate input only; the services own the rules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from common.forms import SubmissionTokenMixin

NOTE_MAX_LENGTH = 500
REPLY_MAX_LENGTH = 2000
CHOOSE_DIFFERENT = "Choose one to three different mentors."
NO_LONGER_FREE = "That mentor has no place left now: choose another."
CHOICE_FIELDS = (("first", "First choice"), ("second", "Second choice"), ("third", "Third choice"))


class MentorChoiceForm(SubmissionTokenMixin, forms.Form):
    """Up to three of the recommended mentors, best first, and a note for them. Three plain
    selects, so it works without JavaScript; a later choice may be left empty."""

    note = forms.CharField(
        label="A note for your mentor",
        max_length=NOTE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional, up to 500 characters: what you hope to work on together.",
    )

    def __init__(self, *args: Any, mentors: Sequence[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "Choose a mentor"), *((str(pk), label) for pk, label in mentors)]
        for position, (name, label) in enumerate(CHOICE_FIELDS):
            self.fields[name] = forms.TypedChoiceField(
                label=label,
                choices=choices,
                coerce=int,
                empty_value=None,
                required=position == 0,
                error_messages={"invalid_choice": NO_LONGER_FREE},
            )
        self.order_fields([name for name, _ in CHOICE_FIELDS])

    def clean(self) -> dict:
        # Form.clean() returns self.cleaned_data (the stubs allow None, as an override may).
        super().clean()
        chosen = self.chosen_ids()
        if len(set(chosen)) != len(chosen):
            raise forms.ValidationError(CHOOSE_DIFFERENT)
        return self.cleaned_data

    def chosen_ids(self) -> list[int]:
        """The chosen mentors' enrolment ids in order of preference, gaps closed."""
        data = getattr(self, "cleaned_data", {})
        return [data[name] for name, _ in CHOICE_FIELDS if data.get(name)]


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label="Your answer",
        max_length=REPLY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write your answer."},
    )


class RespondForm(forms.Form):
    """One of a mentor's three answers to a request; the reason or question goes with it."""

    ACCEPT, DECLINE, QUESTION = "accept", "decline", "question"

    action = forms.ChoiceField(
        choices=[(ACCEPT, "Accept"), (DECLINE, "Decline"), (QUESTION, "Ask a question")]
    )
    reason = forms.CharField(max_length=REPLY_MAX_LENGTH, required=False)
    question = forms.CharField(max_length=REPLY_MAX_LENGTH, required=False)
