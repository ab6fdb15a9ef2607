from __future__ import annotations

import zoneinfo

from django import forms
from django.http import HttpRequest

from .models import User


def time_zone_choices() -> list[tuple[str, str]]:
    zones = sorted(z for z in zoneinfo.available_timezones() if "/" in z or z == "UTC")
    return [(zone, zone.replace("_", " ")) for zone in zones]


class SignupDetailsForm(forms.Form):
    """Extra sign-up fields; allauth calls `signup()` after creating the user."""

    display_name = forms.CharField(
        label="Your name",
        max_length=150,
        help_text="As colleagues know you, e.g. “Priya Natarajan”.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    time_zone = forms.ChoiceField(
        label="Time zone",
        choices=time_zone_choices,
        initial="UTC",
        help_text="Meeting times are shown to you in this zone.",
        widget=forms.Select(attrs={"data-detect-time-zone": "true"}),
    )

    def clean_display_name(self) -> str:
        name = self.cleaned_data["display_name"].strip()
        if not name:
            raise forms.ValidationError("Tell us your name so your mentor or mentee knows you.")
        return name

    def signup(self, request: HttpRequest, user: User) -> None:
        # The adapter's save_user already stored these fields; nothing else to do.
        return None


class UserSettingsForm(forms.Form):
    display_name = SignupDetailsForm.base_fields["display_name"]
    time_zone = SignupDetailsForm.base_fields["time_zone"]
