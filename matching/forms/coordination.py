"""Forms of the coordinator's matching pages: starting a run, deciding on proposals, the
program's matching settings, exclusions, and ending or replacing a relationship.

Forms only check what was typed; the services own the rules and raise `ValidationError`, which
the views put back on the form (`form_add_service_error`) or show as a message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from django import forms
from django.db import models
from django.forms.boundfield import BoundWidget

from common.forms import SubmissionTokenMixin
from matching.models import MatchingConfig, MatchRun, Proposal
from matching.selectors import Relaxation
from programs.models import Enrolment, Program

OBJECTIVE_EXPLANATIONS = {
    MatchRun.Objective.SCORE: "The pairs that fit best overall, even if a few people are left "
    "without a partner.",
    MatchRun.Objective.COVERAGE: "Everyone who can be matched is matched first; among those "
    "assignments, the best-fitting one.",
}

# The relaxable rules of a run: GET/POST field name → (Relaxation attribute, label).
RELAX_FIELDS = {
    "relax_language": ("language", "Allow pairs who share no language"),
    "relax_time_zone": ("time_zone", "Ignore the time-zone limit"),
    "relax_past_partners": ("past_partners", "Allow people who were partners before"),
}


def relaxation_from(data: Mapping[str, Any]) -> Relaxation:
    """The relaxation ticked in a query string or form (a missing or empty value is off)."""
    return Relaxation(
        **{attribute: bool(data.get(name)) for name, (attribute, _) in RELAX_FIELDS.items()}
    )


def relaxation_initial(relax: Relaxation) -> dict[str, bool]:
    return {name: getattr(relax, attribute) for name, (attribute, _) in RELAX_FIELDS.items()}


class RunStartForm(SubmissionTokenMixin, forms.Form):
    """Start a run: what to optimise and which rules to relax for this run only."""

    objective = forms.ChoiceField(
        label="What matters most",
        choices=MatchRun.Objective.choices,
        initial=MatchRun.Objective.SCORE,
        widget=forms.RadioSelect,
    )
    relax_language = forms.BooleanField(required=False, label=RELAX_FIELDS["relax_language"][1])
    relax_time_zone = forms.BooleanField(required=False, label=RELAX_FIELDS["relax_time_zone"][1])
    relax_past_partners = forms.BooleanField(
        required=False, label=RELAX_FIELDS["relax_past_partners"][1]
    )

    def relaxation(self) -> Relaxation:
        return relaxation_from(self.cleaned_data)

    def objective_options(self) -> list[tuple[BoundWidget, str]]:
        """Each objective's radio with its explanation, for tiles."""
        return [(radio, OBJECTIVE_EXPLANATIONS[radio.data["value"]]) for radio in self["objective"]]

    def relax_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in RELAX_FIELDS]


class RunCompareForm(forms.Form):
    first = forms.IntegerField(min_value=1)
    second = forms.IntegerField(min_value=1)


class ProposalDecideForm(forms.Form):
    decision = forms.ChoiceField(choices=Proposal.Decision.choices)
    page = forms.IntegerField(min_value=1, required=False)


class ProposalLockForm(forms.Form):
    locked = forms.TypedChoiceField(
        choices=[("1", "Lock"), ("0", "Unlock")], coerce=lambda v: v == "1"
    )
    page = forms.IntegerField(min_value=1, required=False)


class ProposalSwapForm(forms.Form):
    """The mentor to give the proposal's mentee instead (any enrolment of the run's cohort: the
    service says why one cannot mentor)."""

    mentor = forms.ModelChoiceField(queryset=Enrolment.objects.none(), label="New mentor")
    page = forms.IntegerField(min_value=1, required=False)

    def __init__(self, *args: Any, cohort_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        mentor = cast("forms.ModelChoiceField[Enrolment]", self.fields["mentor"])
        mentor.queryset = Enrolment.objects.filter(cohort_id=cohort_id)


# --- Matching settings ----------------------------------------------------------------------

WEIGHT_LABELS = {
    "weight_development": "Development areas",
    "weight_skills": "Skills sought and offered",
    "weight_department": "Another department",
    "weight_level": "Level",
    "weight_time_zone": "Time zone",
    "weight_language": "Language",
    "weight_text": "What they wrote",
}
WEIGHT_FIELDS = tuple(WEIGHT_LABELS)


def _help(name: str) -> str:
    # Only called with the names of MatchingConfig's own columns, never a relation.
    field = cast("models.Field[Any, Any]", MatchingConfig._meta.get_field(name))
    return str(field.help_text)


def _weight_field(name: str) -> forms.FloatField:
    return forms.FloatField(
        label=WEIGHT_LABELS[name],
        min_value=0,
        max_value=10,
        step_size=0.5,
        help_text=_help(name),
        widget=forms.NumberInput(attrs={"step": "0.5", "min": "0", "max": "10"}),
    )


class MatchingConfigForm(forms.Form):
    """The program's weights and rules (services.MATCHING_CONFIG_FIELDS, nothing else)."""

    weight_development = _weight_field("weight_development")
    weight_skills = _weight_field("weight_skills")
    weight_department = _weight_field("weight_department")
    weight_level = _weight_field("weight_level")
    weight_time_zone = _weight_field("weight_time_zone")
    weight_language = _weight_field("weight_language")
    weight_text = _weight_field("weight_text")
    require_shared_language = forms.BooleanField(
        required=False,
        label="Only pair people who share a language",
        help_text="People whose languages are unknown are not held back by this rule.",
    )
    max_time_zone_gap_hours = forms.FloatField(
        required=False,
        label="Largest time-zone gap (hours)",
        min_value=0,
        max_value=12,
        help_text=_help("max_time_zone_gap_hours"),
        widget=forms.NumberInput(attrs={"step": "0.5", "min": "0", "max": "12"}),
    )
    allow_past_partners = forms.BooleanField(
        required=False,
        label="Allow people who were partners before",
        help_text=_help("allow_past_partners"),
    )
    max_peer_level_gap = forms.IntegerField(
        required=False,
        label="Largest level difference between peers",
        min_value=0,
        max_value=7,
        help_text="Peers more levels apart than this are never paired. Empty: no limit.",
    )
    request_response_days = forms.IntegerField(
        label="Days a mentor has to answer a request",
        min_value=1,
        max_value=60,
        help_text="When a mentor does not answer in time, the mentee's next choice is asked.",
    )

    def __init__(self, *args: Any, program: Program, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if program.kind != Program.Kind.PEER:
            self.fields["max_peer_level_gap"].help_text = (
                "Only used by peer programs; this program is "
                f"{program.get_kind_display().lower()}, so it has no effect here."
            )
        if not program.mentees_may_request:
            del self.fields["request_response_days"]

    def weight_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in WEIGHT_FIELDS]

    def rule_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name not in WEIGHT_FIELDS]


def score_composition(weights: Mapping[str, float]) -> str:
    """ "development 3, skills 2, level 1": the parts with a weight, heaviest first."""
    parts = sorted(
        ((name, value) for name, value in weights.items() if value and value > 0),
        key=lambda item: -item[1],
    )
    return ", ".join(f"{name.replace('_', ' ')} {value:g}" for name, value in parts)


# --- Exclusions -----------------------------------------------------------------------------


def _person_label(enrolment: Enrolment) -> str:
    return f"{enrolment.user} ({enrolment.get_role_display().lower()})"


class ExclusionForm(forms.Form):
    """Two people of the cohort never to be proposed together. The choices come from one list
    the view reads once, so both selects cost one query."""

    first = forms.TypedChoiceField(label="Never pair", coerce=int)
    second = forms.TypedChoiceField(label="with", coerce=int)
    reason = forms.CharField(
        required=False,
        max_length=200,
        help_text="For you and other coordinators; the people are not told.",
    )

    def __init__(self, *args: Any, people: Iterable[Enrolment], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.people = {enrolment.pk: enrolment for enrolment in people}
        choices = [("", "Choose someone")] + [
            (pk, _person_label(enrolment)) for pk, enrolment in self.people.items()
        ]
        for name in ("first", "second"):
            cast(forms.TypedChoiceField, self.fields[name]).choices = choices

    def clean(self) -> dict[str, Any]:
        # Form.clean() returns self.cleaned_data (the stubs allow None, as an override may).
        super().clean()
        cleaned = self.cleaned_data
        first, second = cleaned.get("first"), cleaned.get("second")
        if first is not None and first == second:
            raise forms.ValidationError("Choose two different people.")
        for name in ("first", "second"):
            if cleaned.get(name) is not None:
                cleaned[name] = self.people[cleaned[name]]
        return cleaned


# --- Relationships --------------------------------------------------------------------------


class RelationshipEndForm(forms.Form):
    reason = forms.CharField(
        label="Why is it ending?",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Both partners are told it has ended, with this reason.",
    )


class ReplacementForm(forms.Form):
    mentor = forms.TypedChoiceField(coerce=int, widget=forms.HiddenInput)

    def __init__(self, *args: Any, candidates: Iterable[Enrolment], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.candidates = {enrolment.pk: enrolment for enrolment in candidates}
        mentor = cast(forms.TypedChoiceField, self.fields["mentor"])
        mentor.choices = [(pk, pk) for pk in self.candidates]

    def clean_mentor(self) -> Enrolment:
        return self.candidates[self.cleaned_data["mentor"]]
