"""Forms of the participant import: the upload, the column mapping and the run's action.

They only check what the coordinator sent; reading the file, the mapping rules and the import
itself belong to the services, whose `ValidationError`s the views show on the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms

from common.forms import SubmissionTokenMixin
from programs.imports import FIELDS, JOB_LEVEL_LABELS, MAX_BYTES, MAX_ROWS

ACCEPTED_SUFFIXES = ".csv,.xlsx,.tsv,.txt"
IGNORE_LABEL = "— ignore this column —"
FILE_TOO_BIG = "“{name}” is {size:.1f} MB; the limit is {limit} MB. Split it into smaller files."


class ImportUploadForm(SubmissionTokenMixin, forms.Form):
    file = forms.FileField(
        label="Participant file",
        help_text=(
            f"CSV or Excel (.xlsx), up to {MAX_BYTES // 1024 // 1024} MB and {MAX_ROWS:,} "
            "people, with a header row."
        ),
        widget=forms.FileInput(attrs={"accept": ACCEPTED_SUFFIXES, "class": "import-file"}),
        error_messages={
            "required": "Choose the file to upload.",
            "empty": "The file is empty.",
        },
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        # Refuse before reading: the service reads the whole upload into memory.
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                FILE_TOO_BIG.format(
                    name=upload.name,
                    size=upload.size / 1024 / 1024,
                    limit=MAX_BYTES // 1024 // 1024,
                )
            )
        return upload


class ImportMappingForm(forms.Form):
    """One select per column of the file, named `column_<index>`, preset from `mapping`."""

    def __init__(
        self, *args: Any, headers: list[str], mapping: dict[str, str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", IGNORE_LABEL)] + [(spec.name, spec.label) for spec in FIELDS.values()]
        for index, header in enumerate(headers):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=header or f"Column {index + 1}",
                choices=choices,
                required=False,
                initial=mapping.get(str(index), ""),
            )

    def mapping(self) -> dict[int, str]:
        """Column index -> field name, "" for an ignored column (after `is_valid()`)."""
        return {
            int(name.removeprefix("column_")): value for name, value in self.cleaned_data.items()
        }


class ImportRunForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("import", "Import"), ("invite", "Email invitations")], required=False
    )

    def clean_action(self) -> str:
        return self.cleaned_data["action"] or "import"


# --- What the upload page tells the coordinator about each column ---------------------------

_LIST_HINT = "Several, separated by semicolons or commas."
_PROFILE_HINT = "Goes on their profile, unless they already filled it in."
_HINTS = {
    "email": "Their work address; it is how we recognise people already here.",
    "display_name": "Or use First name and Last name; left blank, we make one from the email.",
    "first_name": "Used for the name when there is no Name column.",
    "last_name": "Used for the name when there is no Name column.",
    "department": _PROFILE_HINT,
    "job_title": _PROFILE_HINT,
    "location": _PROFILE_HINT,
    "bio": "A few lines about them. " + _PROFILE_HINT,
    "development_goals": "In their words: what they want to develop in this cohort.",
    "hopes": "What they hope to get out of the program.",
    "availability": "For example “Tuesday and Thursday afternoons”.",
    "job_level": "A number from 1 to 8, or one of: " + ", ".join(JOB_LEVEL_LABELS) + ".",
    "manager_email": "Used to keep people out of their own reporting line when matching.",
    "time_zone": "A name such as Europe/London or America/New_York.",
    "languages": _LIST_HINT,
    "develop": _LIST_HINT,
    "seek": _LIST_HINT,
    "offer": _LIST_HINT,
    "expertise": _LIST_HINT,
}


@dataclass(frozen=True)
class ColumnHelp:
    label: str
    required: bool
    hint: str
    also_read: str


def upload_columns_help(*, roles: frozenset[str], default_capacity: int) -> list[ColumnHelp]:
    """Every field a file may hold, in the order of the mapping screen."""
    ordered_roles = [role for role in ("mentor", "mentee", "peer") if role in roles]
    hints = {
        **_HINTS,
        "role": (
            f"“{ordered_roles[0]}” for everyone if left out: this program has only "
            f"{ordered_roles[0]}s."
            if len(ordered_roles) == 1
            else " or ".join(f"“{role}”" for role in ordered_roles) + "."
        ),
        "capacity": (
            f"Mentors only: how many mentees they take. Blank means {default_capacity}, the "
            "program's default."
        ),
    }
    rows = []
    for spec in FIELDS.values():
        other_names = [alias for alias in spec.aliases if alias.casefold() != spec.label.casefold()]
        rows.append(
            ColumnHelp(
                label=spec.label,
                # A program with one role needs no role column.
                required=spec.required and not (spec.name == "role" and len(ordered_roles) == 1),
                hint=hints.get(spec.name, ""),
                also_read=", ".join(other_names[:4]),
            )
        )
    return rows
