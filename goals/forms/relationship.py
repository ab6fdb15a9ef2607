"""Forms of the member pages of a relationship: they validate input only; every write is a
service in goals.services (or matching.services for closing)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.utils import timezone

from common.forms import SubmissionTokenMixin
from goals.models import Agreement, CheckIn, Goal
from matching.models import Relationship, RelationshipMember

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class AgreementForm(forms.Form):
    text = forms.CharField(
        label="What you agree",
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text="Expectations, confidentiality, and how either of you can end it.",
    )
    meeting_cadence_days = forms.IntegerField(label="Meet every (days)", min_value=1, max_value=365)
    meeting_mode = forms.ChoiceField(label="Usually meet by", choices=Agreement.Mode.choices)
    duration_weeks = forms.IntegerField(label="For (weeks)", min_value=1, max_value=156)
    base_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class GoalCreateForm(SubmissionTokenMixin, forms.Form):
    title = forms.CharField(label="Goal", max_length=200, help_text="What you want to achieve.")
    measure = forms.CharField(
        label="How you will know", max_length=300, help_text="How you will measure it."
    )
    target_date = forms.DateField(label="By when", widget=DATE_WIDGET)
    milestones = forms.CharField(
        label="Milestones",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Optional: one step per line.",
    )

    def milestone_titles(self) -> tuple[str, ...]:
        lines = self.cleaned_data.get("milestones", "").splitlines()
        return tuple(line.strip()[:200] for line in lines if line.strip())


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: RelationshipMember) -> str:
        user = obj.enrolment.user
        return f"{user.display_name or user.email} ({obj.get_role_display().lower()})"


class GoalEditForm(forms.Form):
    """Everyone in the relationship reads what is typed here, and its history keeps each
    change. A goal with milestones takes its progress from them: no progress field then."""

    title = forms.CharField(label="Goal", max_length=200)
    measure = forms.CharField(label="How you will know", max_length=300)
    target_date = forms.DateField(label="By when", widget=DATE_WIDGET)
    owner = MemberChoiceField(
        label="Whose goal",
        queryset=RelationshipMember.objects.none(),
        empty_label=None,
        help_text="Hand the goal to someone else in the relationship.",
    )
    status = forms.ChoiceField(choices=Goal.Status.choices)
    progress = forms.IntegerField(
        label="Progress (%)",
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": 5}),
    )

    def __init__(self, *args: Any, goal: Goal, milestone_count: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = cast(forms.ModelChoiceField, self.fields["owner"])
        owner.queryset = (
            RelationshipMember.objects.filter(relationship_id=goal.relationship_id)
            .select_related("enrolment__user")
            .order_by("role", "pk")
        )
        if milestone_count:
            del self.fields["progress"]


class MilestoneForm(forms.Form):
    """A step of a goal: everyone in the relationship reads it."""

    title = forms.CharField(label="Step", max_length=200)
    due_on = forms.DateField(label="Due on", required=False, widget=DATE_WIDGET)


class CheckInForm(SubmissionTokenMixin, forms.Form):
    met_on = forms.DateField(label="Met on", widget=DATE_WIDGET)
    duration_minutes = forms.IntegerField(
        label="How long (minutes)",
        min_value=5,
        max_value=600,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": 5}),
    )
    mode = forms.ChoiceField(label="How you met", choices=CheckIn.Mode.choices)
    summary = forms.CharField(
        label="What you talked about",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Everyone in the relationship reads this.",
        # Required is left to the service, so its message is the one people see.
        required=False,
    )
    next_steps = forms.CharField(
        label="Next steps", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    next_meeting_at = forms.DateTimeField(
        label="Next meeting",
        required=False,
        widget=DATETIME_WIDGET,
        help_text="Optional. In your own time zone.",
    )
    private_note = forms.CharField(
        label="Private note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Only you will see this.",
    )

    def __init__(self, *args: Any, goals: Iterable[Goal] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.goal_fields: list[tuple[Goal, str]] = []
        fields = dict(self.fields)
        private_note = fields.pop("private_note")
        for goal in goals:
            name = f"goal_{goal.pk}"
            fields[name] = forms.IntegerField(
                label=f"Progress on “{goal.title}” (%)",
                required=False,
                min_value=0,
                max_value=100,
                help_text=f"Now {goal.progress}%. Leave empty if unchanged.",
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": 5}),
            )
            self.goal_fields.append((goal, name))
        fields["private_note"] = private_note
        self.fields = fields
        if not self.is_bound:
            self.initial.setdefault("met_on", timezone.localdate())
            self.initial.setdefault("duration_minutes", 60)

    def goal_progress(self) -> dict[int, int]:
        return {
            goal.pk: self.cleaned_data[name]
            for goal, name in self.goal_fields
            if self.cleaned_data.get(name) is not None
        }


class CommentForm(SubmissionTokenMixin, forms.Form):
    text = forms.CharField(
        label="Comment", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class PrivateNoteForm(SubmissionTokenMixin, forms.Form):
    text = forms.CharField(
        label="New private note", widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )


class PrivateNoteEditForm(forms.Form):
    text = forms.CharField(
        label="Private note",
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=5000,
        help_text="Only you can read this, and only you can change or delete it.",
    )


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(
        label="How did it end?",
        choices=Relationship.Outcome.choices,
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label="Why",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Needed when it ended early; everyone in the relationship is told.",
    )

    def clean(self) -> dict:
        # Form.clean() returns self.cleaned_data (the stubs allow None, as an override may).
        super().clean()
        data = self.cleaned_data
        if (
            data.get("outcome") == Relationship.Outcome.ENDED_EARLY
            and not (data.get("reason") or "").strip()
        ):
            self.add_error("reason", "Say why it ended early.")
        return data
