from __future__ import annotations

import zoneinfo
from typing import Any, cast

from django import forms
from django.http import HttpRequest

from notifications.services import notification_kinds_optional

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


class EmailPreferencesForm(forms.Form):
    """Which optional kinds of message also come by email; an unticked kind still reaches the
    person's notification centre."""

    email_kinds = forms.MultipleChoiceField(
        label="Send me these by email",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Untick a kind to get it in the app only, in your notifications.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.MultipleChoiceField, self.fields["email_kinds"])
        field.choices = [(kind.value, kind.label) for kind in notification_kinds_optional()]
