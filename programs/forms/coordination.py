"""Forms of the coordinator pages: programs, cohorts, application questions and the people list.

Forms only validate what a person typed; the services own the rules and raise `ValidationError`,
which `common.forms.form_add_service_error` puts back on the form beside the field it concerns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db import models

from accounts.forms import time_zone_choices
from common.forms import SubmissionTokenMixin
from programs.models import Cohort, CohortQuestion, Enrolment, FeedbackQuestion, Program
from programs.rules import (
    COORDINATOR_SETTABLE_STATUSES,
    PROGRAM_SETTINGS_FIELDS,
    cohort_default_ends_on,
    program_today,
)

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

KIND_EXPLANATIONS: dict[str, str] = {
    Program.Kind.ONE_TO_ONE: "A mentor takes up to a set number of mentees, one relationship each.",
    Program.Kind.REVERSE: "The more junior person mentors the more senior one.",
    Program.Kind.PEER: "People at a similar level pair up and mentor each other.",
    Program.Kind.CIRCLE: "Small groups meet with one or two mentors.",
}
KIND_LOCKED_HELP = (
    "The kind cannot change any more: a cohort of this program has already left draft."
)
KIND_LOCKED = "The kind of a program cannot change once one of its cohorts has left draft."
SELECT_SOMEONE = "Select at least one person."
# The program's reminder thresholds, shown together under "Reminders".
REMINDER_FIELDS = tuple(name for name in PROGRAM_SETTINGS_FIELDS if name.startswith("reminder_"))
# Settings that only some kinds of program use: shown and required only for those kinds. A
# program of another kind keeps what it had (or the default), so switching back loses nothing.
KIND_SCOPED_FIELDS: dict[str, frozenset[str]] = {
    "default_mentor_capacity": frozenset(
        {Program.Kind.ONE_TO_ONE, Program.Kind.REVERSE, Program.Kind.CIRCLE}
    ),
    "circle_size": frozenset({Program.Kind.CIRCLE}),
    "mentors_per_circle": frozenset({Program.Kind.CIRCLE}),
    "mentees_may_request": frozenset({Program.Kind.ONE_TO_ONE, Program.Kind.REVERSE}),
    "allows_external_mentors": frozenset(
        {Program.Kind.ONE_TO_ONE, Program.Kind.REVERSE, Program.Kind.CIRCLE}
    ),
}
FIELD_REQUIRED = "This field is required."
STATUS_ACTIONS = {
    Enrolment.Status.APPROVED: ("Approve", "approved"),
    Enrolment.Status.WAITLISTED: ("Waitlist", "waitlisted"),
    Enrolment.Status.DECLINED: ("Decline", "declined"),
}


# --- Programs -------------------------------------------------------------------------------


def _model_field(name: str) -> models.Field[Any, Any]:
    return cast("models.Field[Any, Any]", Program._meta.get_field(name))


def _default(name: str) -> Any:
    return _model_field(name).get_default()


class ProgramForm(forms.Form):
    """The settings of a program (services.PROGRAM_SETTINGS_FIELDS, nothing else)."""

    name = forms.CharField(max_length=150)
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the program is for and who it is for. Participants see this.",
    )
    kind = forms.ChoiceField(
        label="Kind of mentoring", choices=Program.Kind.choices, widget=forms.RadioSelect
    )
    meeting_cadence_days = forms.IntegerField(
        label="Meet every (days)",
        min_value=1,
        max_value=365,
        help_text="How often pairs are expected to meet, in days.",
    )
    length_weeks = forms.IntegerField(
        label="Length (weeks)",
        min_value=1,
        max_value=260,
        help_text="How long a cohort's relationships run, in weeks.",
    )
    default_mentor_capacity = forms.IntegerField(
        label="Mentees per mentor",
        required=False,
        min_value=1,
        max_value=50,
        help_text="How many mentees a mentor takes unless they say otherwise.",
    )
    circle_size = forms.IntegerField(
        label="Circle size",
        min_value=2,
        max_value=50,
        required=False,
        help_text="Group circles only: members per circle, mentors included.",
    )
    mentors_per_circle = forms.TypedChoiceField(
        label="Mentors per circle",
        choices=[(1, "One"), (2, "Two")],
        coerce=int,
        required=False,
        empty_value=None,
        help_text="Group circles only: one or two mentors lead each circle.",
    )
    mentees_may_request = forms.BooleanField(
        label="Mentees may request a mentor",
        required=False,
        help_text="Mentees may browse recommended mentors and request one.",
    )
    allows_external_mentors = forms.BooleanField(
        label="Allow mentors from outside the organisation", required=False
    )
    agreement_template = forms.CharField(
        label="Mentoring agreement",
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text="The starting text each pair adapts into their own agreement.",
    )
    time_zone = forms.ChoiceField(
        label="Time zone for newcomers",
        choices=time_zone_choices,
        help_text="People who join without giving a time zone (an imported row without one, an "
        "invited person's new account) start in this one; each can change theirs.",
    )
    reminder_check_in_grace_days = forms.IntegerField(
        label="A due check-in is overdue after (days)", required=False, min_value=1, max_value=90
    )
    reminder_confirm_after_days = forms.IntegerField(
        label="Remind to confirm and rate a meeting after (days)",
        required=False,
        min_value=1,
        max_value=30,
    )
    reminder_agreement_unsigned_days = forms.IntegerField(
        label="Remind to sign the agreement after the start (days)",
        required=False,
        min_value=1,
        max_value=90,
    )
    reminder_goal_due_soon_days = forms.IntegerField(
        label="Remind before a goal's target date (days)", required=False, min_value=1, max_value=60
    )
    reminder_survey_unanswered_days = forms.IntegerField(
        label="Remind of an unanswered survey after (days)",
        required=False,
        min_value=1,
        max_value=60,
    )
    reminder_request_unanswered_days = forms.IntegerField(
        label="Remind a mentor of an unanswered request after (days)",
        required=False,
        min_value=1,
        max_value=30,
    )
    reminder_invitation_unaccepted_days = forms.IntegerField(
        label="Remind of an unaccepted invitation after (days)",
        required=False,
        min_value=1,
        max_value=30,
    )
    reminder_survey_response_percent = forms.IntegerField(
        label="Flag surveys answered by fewer than (%)",
        required=False,
        min_value=1,
        max_value=100,
    )

    def __init__(self, *args: Any, kind_locked: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind_locked = kind_locked
        if kind_locked:
            # A disabled field ignores what is posted and keeps its initial value; clean_kind
            # refuses a change anyway, should a caller pass one without disabling.
            self.fields["kind"].disabled = True
            self.fields["kind"].help_text = KIND_LOCKED_HELP
        for name in REMINDER_FIELDS:
            # The model's help text, and its default: an empty field takes the default.
            field = self.fields[name]
            field.help_text = f"{_model_field(name).help_text} Default: {_default(name)}."
            field.widget.attrs["placeholder"] = str(_default(name))

    @classmethod
    def initial_for(cls, program: Program | None = None) -> dict[str, object]:
        """The form's starting values: the program's own, or a new program's defaults."""
        source = program if program is not None else Program()
        return {name: getattr(source, name) for name in PROGRAM_SETTINGS_FIELDS}

    reminder_field_names = REMINDER_FIELDS

    def reminder_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in REMINDER_FIELDS]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in REMINDER_FIELDS:
            if cleaned.get(name) is None and name not in self.errors:
                cleaned[name] = _default(name)
        kind = cleaned.get("kind")
        for name, kinds in KIND_SCOPED_FIELDS.items():
            if name in self.errors:
                continue
            if kind in kinds:
                if cleaned.get(name) is None:
                    self.add_error(name, FIELD_REQUIRED)
            else:
                # Not used by this kind: whatever was posted (a hidden field) is ignored.
                kept = self.get_initial_for_field(self.fields[name], name)
                cleaned[name] = _default(name) if kept is None else kept
        return cleaned

    def kind_rows(self) -> list[tuple[forms.BoundField, str, bool]]:
        """The visible settings outside "Reminders", in order, each with the kinds it applies
        to ("" for every kind) and whether it starts hidden: only when the kind cannot change
        any more and the field does not apply to it. Otherwise app.js hides what the chosen
        kind does not use; without JavaScript every field shows, marked with the kinds it
        is for, and the server ignores what does not apply."""
        kind = self["kind"].value()
        rows = []
        for field in self.visible_fields():
            if field.name in REMINDER_FIELDS:
                continue
            kinds = KIND_SCOPED_FIELDS.get(field.name)
            hidden = bool(kinds) and self.kind_locked and kind not in (kinds or ())
            rows.append((field, " ".join(sorted(kinds)) if kinds else "", hidden))
        return rows

    def clean_kind(self) -> str:
        kind = self.cleaned_data["kind"]
        if self.kind_locked and kind != self.get_initial_for_field(self.fields["kind"], "kind"):
            raise ValidationError(KIND_LOCKED)
        return kind

    def kind_options(self) -> list[tuple[Any, str]]:
        """Each kind's radio button with its one-line explanation, for the template."""
        return [
            (radio, KIND_EXPLANATIONS.get(radio.data["value"], ""))
            for radio in self["kind"].subwidgets
        ]


class ProgramCreateForm(SubmissionTokenMixin, ProgramForm):
    """A new program: sent twice, it makes one."""


class CoordinatorAddForm(forms.Form):
    email = forms.EmailField(
        label="Add a coordinator by email",
        help_text="They need an account already; ask them to sign up first.",
    )


class CoordinatorRemoveForm(forms.Form):
    user_id = forms.IntegerField(widget=forms.HiddenInput)


# --- Cohorts --------------------------------------------------------------------------------


# A new cohort is offered a start this far ahead: time to enrol people and match them.
NEW_COHORT_LEAD = dt.timedelta(weeks=4)


class CohortForm(forms.Form):
    """A cohort's name and dates. Left empty, the end date is the program's length after the
    start."""

    name = forms.CharField(max_length=150, help_text="For example “Spring 2026”.")
    starts_on = forms.DateField(label="Starts on", widget=DATE_INPUT)
    ends_on = forms.DateField(label="Ends on", required=False, widget=DATE_INPUT)
    enrolment_opens_on = forms.DateField(
        label="Enrolment opens on",
        required=False,
        widget=DATE_INPUT,
        help_text="Leave empty to accept applications as soon as you open enrolment.",
    )
    enrolment_closes_on = forms.DateField(
        label="Enrolment closes on",
        required=False,
        widget=DATE_INPUT,
        help_text="On or before the start date. Leave empty to close it by hand.",
    )

    def __init__(self, *args: Any, program: Program, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.program = program
        weeks = program.length_weeks
        self.fields["ends_on"].help_text = (
            f"{program.name} runs for {weeks} week{'' if weeks == 1 else 's'}: left empty, the "
            "cohort ends that long after its start."
        )
        # app.js moves a pre-filled end date along with the start date.
        self.fields["ends_on"].widget.attrs["data-length-weeks"] = str(weeks)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        starts_on = cleaned.get("starts_on")
        if starts_on and not cleaned.get("ends_on") and "ends_on" not in self.errors:
            cleaned["ends_on"] = cohort_default_ends_on(program=self.program, starts_on=starts_on)
        return cleaned

    @staticmethod
    def initial_for_new(program: Program) -> dict[str, object]:
        """A new cohort starts four weeks from today and runs for the program's length."""
        starts_on = program_today(program) + NEW_COHORT_LEAD
        return {
            "starts_on": starts_on,
            "ends_on": cohort_default_ends_on(program=program, starts_on=starts_on),
        }

    @staticmethod
    def initial_for(cohort: Cohort) -> dict[str, object]:
        return {
            "name": cohort.name,
            "starts_on": cohort.starts_on,
            "ends_on": cohort.ends_on,
            "enrolment_opens_on": cohort.enrolment_opens_on,
            "enrolment_closes_on": cohort.enrolment_closes_on,
        }


class CohortCreateForm(SubmissionTokenMixin, CohortForm):
    """A new cohort: sent twice, it makes one."""


class CohortTransitionForm(forms.Form):
    to_status = forms.ChoiceField(choices=Cohort.Status.choices)
    # Ticked beside "Start the cohort" when its start date is still to come.
    confirm_early_start = forms.BooleanField(required=False)


class CohortCloneForm(SubmissionTokenMixin, forms.Form):
    name = forms.CharField(max_length=150, label="Name of the next cohort")
    starts_on = forms.DateField(
        label="Starts on",
        widget=DATE_INPUT,
        help_text="The end date and the enrolment window move by the same number of days.",
    )


class QuestionRowForm(forms.Form):
    """A row of the question editor. A new row (one a formset may leave empty) asks for
    nothing: left blank it is skipped, so none of its fields is marked required; once its
    question is written, its other choices are required as usual."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.required_once_written: list[str] = []
        if self.empty_permitted:
            for name, field in self.fields.items():
                if field.required:
                    field.required = False
                    if name != "text":
                        self.required_once_written.append(name)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("text"):
            for name in self.required_once_written:
                if not cleaned.get(name) and name not in self.errors:
                    self.add_error(name, FIELD_REQUIRED)
        return cleaned


class CohortQuestionForm(QuestionRowForm):
    # Carries an existing question's id through the page, so editing its text keeps the
    # answers people already gave to it.
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    text = forms.CharField(label="Question", max_length=300)
    answer_kind = forms.ChoiceField(
        label="Answer", choices=CohortQuestion.AnswerKind.choices, initial="short"
    )
    is_required = forms.BooleanField(label="Required", required=False)


CohortQuestionFormSet = forms.formset_factory(
    CohortQuestionForm,
    extra=2,
    can_delete=True,
    can_delete_extra=False,
    max_num=50,
    validate_max=True,
)


class FeedbackQuestionForm(QuestionRowForm):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    text = forms.CharField(label="Question", max_length=300)
    answer_kind = forms.ChoiceField(
        label="Answer", choices=FeedbackQuestion.AnswerKind.choices, initial="scale"
    )
    asked_of = forms.ChoiceField(
        label="Asked of", choices=FeedbackQuestion.AskedOf.choices, initial="everyone"
    )
    visible_to = forms.ChoiceField(
        label="Answers seen by", choices=FeedbackQuestion.VisibleTo.choices, initial="coordinator"
    )


FeedbackQuestionFormSet = forms.formset_factory(
    FeedbackQuestionForm,
    extra=2,
    can_delete=True,
    can_delete_extra=False,
    max_num=50,
    validate_max=True,
)


def questions_from_formset(formset: forms.BaseFormSet) -> list[dict[str, object]]:
    """The questions a valid formset keeps, in page order: filled rows not marked for removal,
    with every field of the form (the id only when the row is an existing question)."""
    deleted = formset.deleted_forms
    kept = []
    for form in formset.forms:
        if form in deleted or not form.cleaned_data.get("text"):
            continue
        data = {k: v for k, v in form.cleaned_data.items() if k != "DELETE"}
        if not data.get("id"):
            data.pop("id", None)
        kept.append(data)
    return kept


def questions_initial(
    questions: Iterable[CohortQuestion | FeedbackQuestion], fields: tuple[str, ...]
) -> list[dict[str, object]]:
    return [{"id": q.pk, **{name: getattr(q, name) for name in fields}} for q in questions]


# --- People ---------------------------------------------------------------------------------


class EnrolmentFilterForm(forms.Form):
    """The people list's filters, read from the query string."""

    role = forms.ChoiceField(required=False)
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *Enrolment.Status.choices]
    )
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, email, department"}),
    )

    def __init__(self, *args: Any, roles: frozenset[str] | set[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["role"]).choices = [("", "Any role")] + [
            (value, label) for value, label in Enrolment.Role.choices if value in roles
        ]

    def filters(self) -> dict[str, str]:
        """Valid filters only: a bad value in the query string is ignored, not an error page."""
        if not self.is_valid():
            return {"role": "", "status": "", "search": ""}
        data = self.cleaned_data
        return {"role": data["role"], "status": data["status"], "search": data["q"].strip()}


class IdListField(forms.Field):
    """Every value of a repeated parameter (`ids=1&ids=2`), as integers."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": SELECT_SOMEONE,
        "invalid": "The selection was not understood; select the people again.",
    }

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        try:
            return [int(item) for item in value]
        except (TypeError, ValueError):
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class EnrolmentBulkStatusForm(forms.Form):
    ids = IdListField()
    status = forms.ChoiceField(
        label="Action",
        choices=[(status, STATUS_ACTIONS[status][0]) for status in COORDINATOR_SETTABLE_STATUSES],
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)
