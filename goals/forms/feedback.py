"""Forms for feedback and reflection: the one-tap pulse, the midpoint and final surveys, and
the reflection journal. They validate input only; the services in goals.services write."""

from __future__ import annotations

from typing import cast

from django import forms

from common.forms import SubmissionTokenMixin
from goals.models import ReadinessRating
from matching.models import RelationshipMember
from programs.models import FeedbackQuestion

SCALE_CHOICES = [(n, str(n)) for n in range(1, 6)]
# Keyed by the plain value, as FeedbackQuestion.visible_to holds it.
SEEN_BY: dict[str, str] = {
    FeedbackQuestion.VisibleTo.PARTNER: "Seen by your partner and the coordinator",
    FeedbackQuestion.VisibleTo.COORDINATOR: "Seen by the coordinator only",
}
OWN_PROMPT = ""  # the empty choice: the writer's own question


class PulseForm(SubmissionTokenMixin, forms.Form):
    usefulness = forms.TypedChoiceField(
        label="How useful was this meeting?",
        choices=SCALE_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        help_text="1 not useful, 5 very useful.",
    )
    line = forms.CharField(
        label="Anything to add? (optional)",
        required=False,
        max_length=200,
        help_text="Your partner and the coordinator can read this.",
    )


class SurveyForm(SubmissionTokenMixin, forms.Form):
    """One field per question, named q<question id>: scale questions as required 1-5 radios,
    text questions as optional textareas. A mentor's final survey adds, per mentee, the
    readiness question (readiness<member id>). Each says who will read the answer."""

    def __init__(
        self,
        *args,
        questions: list[FeedbackQuestion],
        readiness_mentees: list[RelationshipMember] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        self.readiness_mentees = readiness_mentees or []
        for question in questions:
            seen_by = SEEN_BY.get(
                question.visible_to, SEEN_BY[FeedbackQuestion.VisibleTo.COORDINATOR]
            )
            if question.answer_kind == FeedbackQuestion.AnswerKind.SCALE:
                field: forms.Field = forms.TypedChoiceField(
                    label=question.text,
                    choices=SCALE_CHOICES,
                    coerce=int,
                    widget=forms.RadioSelect,
                    help_text=f"1 not at all, 5 very much. {seen_by}.",
                )
            else:
                field = forms.CharField(
                    label=question.text,
                    required=False,
                    widget=forms.Textarea(attrs={"rows": 3}),
                    help_text=f"{seen_by}.",
                )
            self.fields[f"q{question.pk}"] = field
        for mentee in self.readiness_mentees:
            user = mentee.enrolment.user
            self.fields[f"readiness{mentee.pk}"] = forms.ChoiceField(
                label=ReadinessRating.QUESTION.format(name=user.display_name or user.email),
                choices=ReadinessRating.Readiness.choices,
                widget=forms.RadioSelect,
                help_text=ReadinessRating.READERS,
            )

    def answers(self) -> dict[int, int | str | None]:
        return {q.pk: self.cleaned_data.get(f"q{q.pk}") for q in self.questions}

    def readiness(self) -> dict[int, str]:
        """The readiness rating of each mentee, by their member id."""
        return {m.pk: self.cleaned_data[f"readiness{m.pk}"] for m in self.readiness_mentees}


class ReflectionForm(SubmissionTokenMixin, forms.Form):
    prompt = forms.ChoiceField(
        label="A question to start from",
        required=False,
        widget=forms.RadioSelect,
    )
    own_prompt = forms.CharField(
        label="Or your own question (optional)",
        required=False,
        max_length=300,
    )
    text = forms.CharField(label="Your reflection", widget=forms.Textarea(attrs={"rows": 6}))
    shared = forms.BooleanField(
        label="Share with the others in this relationship",
        required=False,
        initial=False,
        help_text="Private by default: only you can read it unless you tick this. Your "
        "coordinator never reads your reflections.",
    )

    def __init__(self, *args, prompts: tuple[str, ...], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        prompt = cast(forms.ChoiceField, self.fields["prompt"])
        prompt.choices = [(p, p) for p in prompts] + [(OWN_PROMPT, "My own question")]
        prompt.initial = prompts[0] if prompts else OWN_PROMPT

    def clean(self) -> dict:
        # Form.clean() returns self.cleaned_data (the stubs allow None, as an override may).
        super().clean()
        cleaned = self.cleaned_data
        # Reflection.prompt may not be blank: a reflection answers some question.
        if not cleaned.get("prompt") and not cleaned.get("own_prompt", "").strip():
            self.add_error("own_prompt", "Choose a question above or write your own.")
        return cleaned

    def chosen_prompt(self) -> str:
        return self.cleaned_data.get("prompt") or self.cleaned_data.get("own_prompt", "").strip()
