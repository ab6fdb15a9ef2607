"""Forms for participants (applying, their details, their profile), invitations and the shared
vocabulary. They validate and shape input for one service call each; they never save."""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.urls import reverse_lazy

from accounts.models import Profile
from common.forms import SubmissionTokenMixin
from programs.models import Cohort, CohortQuestion, Competency, Enrolment, Program
from programs.rules import program_roles
from programs.selectors import competency_names_by_kind
from programs.services import EnrolmentDetails, ProfileFields

COMPETENCY_HELP = (
    "Separate terms with commas. Pick from the suggestions, or type a new term: "
    "a coordinator reviews new terms."
)
ROLE_ORDER = (Enrolment.Role.MENTEE, Enrolment.Role.MENTOR, Enrolment.Role.PEER)
ROLE_LABELS = {
    Enrolment.Role.MENTEE: "Mentee: I would like a mentor",
    Enrolment.Role.MENTOR: "Mentor: I would like to mentor someone",
    Enrolment.Role.PEER: "Peer: I would like to learn alongside a colleague",
}
YES_NO = [("yes", "Yes"), ("no", "No")]
MAX_INVITATIONS_AT_ONCE = 200


def split_terms(value: str) -> tuple[str, ...]:
    """Comma-separated terms as a tuple, blanks dropped, the first spelling of a repeat kept:
    "Public speaking, negotiation," → ("Public speaking", "negotiation")."""
    seen: set[str] = set()
    terms = []
    for part in value.split(","):
        term = " ".join(part.split())
        if term and term.lower() not in seen:
            seen.add(term.lower())
            terms.append(term)
    return tuple(terms)


def role_choices(program: Program) -> list[tuple[str, str]]:
    roles = program_roles(program)
    return [(role, ROLE_LABELS[role]) for role in ROLE_ORDER if role in roles]


def program_role_choices(program: Program) -> list[tuple[str, str]]:
    """The program's roles with their plain labels, for coordinators."""
    roles = program_roles(program)
    return [(role, Enrolment.Role(role).label) for role in ROLE_ORDER if role in roles]


class CompetencyTermsField(forms.CharField):
    """Comma-separated vocabulary terms in one text input; competency-input.js adds suggestions
    from the shared vocabulary, and without JavaScript it stays a plain text input."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 1000)
        kwargs.setdefault("help_text", COMPETENCY_HELP)
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={
                    "data-competency-input": "",
                    "data-suggest-url": reverse_lazy("programs:competency_suggest"),
                    "autocomplete": "off",
                    "spellcheck": "false",
                }
            ),
        )
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value

    def clean(self, value: Any) -> tuple[str, ...]:
        return split_terms(super().clean(value) or "")


# --- Profile ----------------------------------------------------------------------------------


class ProfileFieldsMixin(forms.Form):
    """Who a person is at work: shared by the profile page and the application form."""

    job_title = forms.CharField(label="Job title", max_length=150, required=False)
    department = forms.CharField(
        max_length=100,
        required=False,
        help_text="Matching can pair people across departments.",
    )
    job_level = forms.TypedChoiceField(
        label="Job level",
        choices=[("", "Choose a level"), *Profile.JobLevel.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    location = forms.CharField(
        max_length=100, required=False, help_text="City or office, e.g. “Lisbon”."
    )
    languages = forms.CharField(
        max_length=300,
        required=False,
        help_text="Languages you can mentor or be mentored in, separated by commas.",
    )

    PROFILE_FIELDS: tuple[str, ...] = (
        "job_title",
        "department",
        "job_level",
        "location",
        "languages",
    )

    @staticmethod
    def profile_initial(profile: Profile | None) -> dict[str, Any]:
        if profile is None:
            return {}
        return {
            "job_title": profile.job_title,
            "department": profile.department,
            "job_level": profile.job_level,
            "location": profile.location,
            "languages": ", ".join(profile.languages or []),
            "bio": profile.bio,
        }

    def clean_languages(self) -> list[str]:
        return list(split_terms(self.cleaned_data.get("languages") or ""))

    def profile_fields(self) -> ProfileFields:
        # The keys are PROFILE_FIELDS, the names of `profile_update`'s arguments.
        return cast(ProfileFields, {name: self.cleaned_data[name] for name in self.PROFILE_FIELDS})


class ProfileForm(ProfileFieldsMixin):
    bio = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="A few lines about you and your work, for your mentor, mentee or peers.",
    )

    PROFILE_FIELDS = (*ProfileFieldsMixin.PROFILE_FIELDS, "bio")


# --- Enrolment details and applying -------------------------------------------------------------


class EnrolmentDetailsForm(forms.Form):
    """What a participant tells this cohort: competencies, goals, practicalities and the cohort's
    own questions (fields `question_<pk>`).

    `role` is the participant's role when it is fixed (editing, or a program with one role);
    with `role=None` the subclass asks for it, and fields for mentors are shown to everyone and
    ignored for mentees."""

    develop = CompetencyTermsField(label="What do you want to develop?")
    seek = CompetencyTermsField(label="Skills you are looking for in a mentor or peer")
    offer = CompetencyTermsField(label="Skills you can offer")
    expertise = CompetencyTermsField(label="Your areas of expertise")
    development_goals = forms.CharField(
        label="Your development goals",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="In your own words: what would you like to be able to do by the end?",
    )
    hopes = forms.CharField(
        label="What do you hope to get out of the program?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    availability = forms.CharField(
        max_length=200,
        required=False,
        help_text="e.g. “Tuesday and Thursday afternoons”.",
    )
    capacity = forms.IntegerField(
        label="How many people can you mentor in this cohort?",
        min_value=1,
        max_value=10,
        required=False,
    )
    prefers_other_department = forms.BooleanField(
        label="I would prefer someone from another department", required=False
    )
    prefers_same_time_zone = forms.BooleanField(
        label="I would prefer someone in my time zone", required=False
    )

    # Fields only mentors (offer, expertise, capacity) or peers (offer, expertise) fill in.
    MENTOR_FIELDS = ("offer", "expertise", "capacity")

    def __init__(self, *args: Any, cohort: Cohort, role: str | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cohort = cohort
        self.fixed_role = role
        self.fields["capacity"].initial = cohort.program.default_mentor_capacity
        if role == Enrolment.Role.MENTEE:
            for name in self.MENTOR_FIELDS:
                del self.fields[name]
        elif role == Enrolment.Role.PEER:
            del self.fields["capacity"]
        self.questions: list[CohortQuestion] = list(cohort.questions.all())
        for question in self.questions:
            self.fields[self.question_field_name(question)] = self.question_field(question)

    @staticmethod
    def question_field_name(question: CohortQuestion) -> str:
        return f"question_{question.pk}"

    @staticmethod
    def question_field(question: CohortQuestion) -> forms.Field:
        label, required = question.text, question.is_required
        if question.answer_kind == CohortQuestion.AnswerKind.YES_NO:
            return forms.ChoiceField(
                choices=YES_NO, widget=forms.RadioSelect, label=label, required=required
            )
        if question.answer_kind == CohortQuestion.AnswerKind.LONG_TEXT:
            return forms.CharField(
                max_length=3000,
                widget=forms.Textarea(attrs={"rows": 4}),
                label=label,
                required=required,
            )
        return forms.CharField(max_length=300, label=label, required=required)

    @staticmethod
    def details_initial(enrolment: Enrolment) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "development_goals": enrolment.development_goals,
            "hopes": enrolment.hopes,
            "availability": enrolment.availability,
            "capacity": enrolment.capacity,
            "prefers_other_department": enrolment.prefers_other_department,
            "prefers_same_time_zone": enrolment.prefers_same_time_zone,
            **competency_names_by_kind(enrolment=enrolment),
        }
        for question_pk, answer in (enrolment.application_answers or {}).items():
            initial[f"question_{question_pk}"] = answer
        return initial

    def chosen_role(self) -> str:
        return self.fixed_role or self.cleaned_data.get("role", "")

    def details(self) -> EnrolmentDetails:
        data = self.cleaned_data
        takes_mentor_fields = self.chosen_role() != Enrolment.Role.MENTEE
        return EnrolmentDetails(
            development_goals=data["development_goals"],
            hopes=data["hopes"],
            availability=data["availability"],
            capacity=data.get("capacity") if self.chosen_role() == Enrolment.Role.MENTOR else None,
            prefers_other_department=data["prefers_other_department"],
            prefers_same_time_zone=data["prefers_same_time_zone"],
            develop=data["develop"],
            seek=data["seek"],
            offer=data.get("offer", ()) if takes_mentor_fields else (),
            expertise=data.get("expertise", ()) if takes_mentor_fields else (),
            application_answers={
                str(question.pk): data.get(self.question_field_name(question)) or ""
                for question in self.questions
            },
        )

    def sections(self) -> list[dict[str, Any]]:
        """The form's fields in titled groups, for the template. A group with `for_mentors`
        is hidden by CSS while the mentee role is picked."""
        groups: list[dict[str, Any]] = [
            {
                "title": "What you want from the program",
                "names": ["develop", "seek", "development_goals", "hopes"],
            },
            {
                "title": "What you bring",
                "description": "Mentors only." if self.fixed_role is None else "",
                "names": ["offer", "expertise", "capacity"],
                "for_mentors": self.fixed_role is None,
            },
            {
                "title": "Practicalities",
                "names": ["availability", "prefers_other_department", "prefers_same_time_zone"],
            },
            {
                "title": f"Questions from {self.cohort.program.name}",
                "names": [self.question_field_name(q) for q in self.questions],
            },
        ]
        sections = []
        for group in groups:
            fields = [self[name] for name in group["names"] if name in self.fields]
            if fields:
                sections.append({**group, "fields": fields})
        return sections


class ApplyForm(SubmissionTokenMixin, ProfileFieldsMixin, EnrolmentDetailsForm):
    """The public application: role, the person's profile, then their details."""

    role = forms.ChoiceField(label="How would you like to take part?", widget=forms.RadioSelect)

    def __init__(self, *args: Any, cohort: Cohort, **kwargs: Any) -> None:
        choices = role_choices(cohort.program)
        single = choices[0][0] if len(choices) == 1 else None
        super().__init__(*args, cohort=cohort, role=single, **kwargs)
        cast(forms.ChoiceField, self.fields["role"]).choices = choices
        if single:
            self.fields["role"].initial = single
            self.fields["role"].widget = forms.HiddenInput()

    def sections(self) -> list[dict[str, Any]]:
        about = {
            "title": "About you",
            "description": "Saved to your profile, so you only tell us once.",
            "profile_link": True,
            "fields": [self[name] for name in ProfileFieldsMixin.PROFILE_FIELDS],
        }
        return [about, *super().sections()]


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="Why are you withdrawing? (optional)",
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Only the coordinator sees this. It helps them plan the next cohort.",
    )


# --- Invitations --------------------------------------------------------------------------------


class InvitationForm(forms.Form):
    emails = forms.CharField(
        label="Email addresses",
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "ana@example.org, ben@example.org"}),
        help_text="One or more, separated by commas, semicolons or new lines.",
    )
    role = forms.ChoiceField(label="Invite them as", widget=forms.RadioSelect)
    is_external = forms.BooleanField(
        label="They are from outside the organisation",
        required=False,
        help_text="External people can only join as mentors.",
    )

    def __init__(self, *args: Any, program: Program, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = program_role_choices(program)
        cast(forms.ChoiceField, self.fields["role"]).choices = choices
        if len(choices) == 1:
            self.fields["role"].initial = choices[0][0]
            self.fields["role"].widget = forms.HiddenInput()
        if not program.allows_external_mentors:
            del self.fields["is_external"]
        self.valid_emails: list[str] = []
        self.invalid_emails: list[str] = []

    def clean_emails(self) -> str:
        tokens = [t for t in re.split(r"[\s,;]+", self.cleaned_data["emails"]) if t]
        validate = EmailValidator()
        seen: set[str] = set()
        for token in tokens:
            address = token.strip("<>\"'").lower()
            if address in seen:
                continue
            seen.add(address)
            try:
                validate(address)
            except ValidationError:
                self.invalid_emails.append(token)
            else:
                self.valid_emails.append(address)
        if not tokens:
            raise ValidationError("Enter at least one email address.")
        if len(seen) > MAX_INVITATIONS_AT_ONCE:
            raise ValidationError(
                f"Invite at most {MAX_INVITATIONS_AT_ONCE} people at once, or import a file."
            )
        return self.cleaned_data["emails"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        role = data.get("role")
        if data.get("is_external") and role and role != Enrolment.Role.MENTOR:
            self.add_error("is_external", "Only mentors can come from outside the organisation.")
        return data


class InvitationAccountForm(forms.Form):
    """A person without an account (or imported without a password) sets their name and
    password while accepting."""

    display_name = forms.CharField(
        label="Your name",
        max_length=150,
        help_text="As colleagues know you, e.g. “Priya Natarajan”.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password = forms.CharField(
        label="Choose a password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_confirmation = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        password, again = data.get("password"), data.get("password_confirmation")
        if password and again and password != again:
            self.add_error("password_confirmation", "The two passwords are not the same.")
        return data


# --- Vocabulary ---------------------------------------------------------------------------------


class CompetencyFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            ("", "Any status"),
            (Competency.Status.SUGGESTED, "Suggested"),
            (Competency.Status.APPROVED, "Approved"),
        ],
        required=False,
    )
    q = forms.CharField(label="Search", max_length=100, required=False)


class CompetencyMergeForm(forms.Form):
    target = forms.CharField(
        label="Merge into",
        max_length=100,
        widget=forms.TextInput(
            attrs={
                "data-competency-input": "single",
                "data-suggest-url": reverse_lazy("programs:competency_suggest"),
                "autocomplete": "off",
                "spellcheck": "false",
                "placeholder": "An approved term",
            }
        ),
        help_text="Its uses move to that term and this name becomes a synonym of it.",
    )

    def clean_target(self) -> Competency:
        name = " ".join(self.cleaned_data["target"].split())
        target = Competency.objects.filter(
            status=Competency.Status.APPROVED, name__iexact=name
        ).first()
        if target is None:
            raise ValidationError(f"No approved term called “{name}”.")
        return target
