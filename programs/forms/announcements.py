"""The form a coordinator writes an announcement in."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from programs.models import Announcement, Cohort, Enrolment, new_token
from programs.rules import program_roles


class AnnouncementForm(forms.Form):
    """Who reads it, and what it says. `token` travels with the form from the first page to the
    confirmation, so submitting it twice makes one announcement."""

    role = forms.ChoiceField(label="Who reads it", required=False)
    subject = forms.CharField(
        label="Subject",
        max_length=Announcement._meta.get_field("subject").max_length,
        help_text="The title in their notifications and the subject of the email.",
    )
    body = forms.CharField(
        label="Message",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Plain text; blank lines separate paragraphs.",
    )
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, cohort: Cohort, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("token", new_token())
        super().__init__(*args, **kwargs)
        self.cohort = cohort
        role = cast(forms.ChoiceField, self.fields["role"])
        role.choices = [("", f"Everyone in {cohort.name}")] + [
            (value, f"{label}s only")
            for value, label in Enrolment.Role.choices
            if value in program_roles(cohort.program)
        ]
        role.help_text = (
            f"Everyone approved in {cohort.name} in the role you choose reads it, in their "
            "notifications and by email (unless they chose to get announcements in the app "
            "only). The program's coordinators see it here too."
        )

    def audience(self) -> str:
        """Who reads the announcement, as the confirmation says it (after validation)."""
        role = self.cleaned_data.get("role", "")
        who = f"is a {Enrolment.Role(role).label.lower()}" if role else "is approved"
        return f"Everyone in {self.cohort.name} who {who}"
