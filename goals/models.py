"""Life inside a mentoring relationship: the agreement, goals, check-ins, feedback, reflection
and private notes. A relationship (matching.Relationship) is a pair or a circle; everything
here belongs to one, and its members are the people who may see it — except private notes and
private reflections, which only their author ever reads."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from matching.models import Relationship, RelationshipMember
from programs.models import FeedbackQuestion


class Agreement(models.Model):
    """What the members agree to. Every edit makes a new version; a signature counts only
    for the version signed, so a change after signing asks everyone to sign again."""

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        VIDEO = "video", "Video call"
        PHONE = "phone", "Phone"
        MIXED = "mixed", "A mix"

    relationship = models.OneToOneField(
        Relationship, on_delete=models.CASCADE, related_name="agreement"
    )
    text = models.TextField(help_text="Expectations, confidentiality and how either side ends it.")
    meeting_cadence_days = models.PositiveSmallIntegerField(default=14)
    meeting_mode = models.CharField(max_length=9, choices=Mode.choices, default=Mode.VIDEO)
    duration_weeks = models.PositiveSmallIntegerField(default=26)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Agreement of {self.relationship} (v{self.version})"


class AgreementSignature(models.Model):
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="signatures")
    member = models.ForeignKey(RelationshipMember, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    signed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "member", "version"], name="agreement_signed_once_per_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} signed v{self.version}"


class Goal(models.Model):
    """A SMART goal: what, how it is measured, by when; with milestones and a history."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        ON_TRACK = "on_track", "On track"
        AT_RISK = "at_risk", "At risk"
        DONE = "done", "Done"
        DROPPED = "dropped", "Dropped"

    relationship = models.ForeignKey(Relationship, on_delete=models.CASCADE, related_name="goals")
    owner = models.ForeignKey(RelationshipMember, on_delete=models.CASCADE, related_name="goals")
    title = models.CharField(max_length=200, help_text="What you want to achieve.")
    measure = models.CharField(max_length=300, help_text="How you will know it is achieved.")
    target_date = models.DateField()
    status = models.CharField(max_length=11, choices=Status.choices, default=Status.NOT_STARTED)
    progress = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(100)], help_text="Percent done."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["relationship", "target_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="goal_progress_at_most_100"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Milestone(models.Model):
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(max_length=200)
    due_on = models.DateField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["goal", "due_on", "pk"]

    def __str__(self) -> str:
        return self.title


class GoalChange(models.Model):
    """One field of a goal changed: who, when, from what to what."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="changes")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    field = models.CharField(max_length=40)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)

    class Meta:
        ordering = ["goal", "-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.field}: {self.old_value} → {self.new_value}"


class CheckIn(models.Model):
    """A meeting, logged by one member and confirmed (or commented on) by the others."""

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        VIDEO = "video", "Video"
        PHONE = "phone", "Phone"
        CHAT = "chat", "Chat"

    relationship = models.ForeignKey(
        Relationship, on_delete=models.CASCADE, related_name="check_ins"
    )
    logged_by = models.ForeignKey(RelationshipMember, on_delete=models.CASCADE, related_name="+")
    met_on = models.DateField()
    duration_minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(5), MaxValueValidator(600)]
    )
    mode = models.CharField(max_length=9, choices=Mode.choices, default=Mode.VIDEO)
    summary = models.TextField(help_text="Shared with everyone in the relationship.")
    next_steps = models.TextField(blank=True)
    next_meeting_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        RelationshipMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["relationship", "-met_on", "-pk"]
        indexes = [models.Index(fields=["relationship", "-met_on"])]

    def __str__(self) -> str:
        return f"Check-in on {self.met_on} ({self.relationship})"


class CheckInGoalProgress(models.Model):
    check_in = models.ForeignKey(CheckIn, on_delete=models.CASCADE, related_name="goal_progress")
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="+")
    progress = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["check_in", "goal"], name="checkin_goal_once"),
        ]

    def __str__(self) -> str:
        return f"{self.goal} at {self.progress}%"


class CheckInComment(models.Model):
    check_in = models.ForeignKey(CheckIn, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(RelationshipMember, on_delete=models.CASCADE, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["check_in", "created_at", "pk"]

    def __str__(self) -> str:
        return f"Comment {self.pk} on {self.check_in}"


class PrivateNote(models.Model):
    """A note on the relationship or one check-in that only its author can ever read."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="private_notes"
    )
    relationship = models.ForeignKey(
        Relationship, on_delete=models.CASCADE, related_name="private_notes"
    )
    check_in = models.ForeignKey(
        CheckIn, on_delete=models.CASCADE, null=True, blank=True, related_name="private_notes"
    )
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["author", "-created_at"]

    def __str__(self) -> str:
        return f"Private note {self.pk}"  # never the text: it may end up in a log or the admin


class Pulse(models.Model):
    """The one-tap feedback after a check-in: how useful it was, and one optional line."""

    check_in = models.ForeignKey(CheckIn, on_delete=models.CASCADE, related_name="pulses")
    author = models.ForeignKey(RelationshipMember, on_delete=models.CASCADE, related_name="+")
    usefulness = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    line = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["check_in", "author"], name="pulse_once_per_check_in"),
        ]

    def __str__(self) -> str:
        return f"Pulse {self.usefulness}/5 on {self.check_in}"


class SurveyResponse(models.Model):
    """One member's midpoint or final survey for the relationship."""

    class Stage(models.TextChoices):
        MIDPOINT = "midpoint", "Midpoint"
        FINAL = "final", "Final"

    relationship = models.ForeignKey(
        Relationship, on_delete=models.CASCADE, related_name="survey_responses"
    )
    author = models.ForeignKey(RelationshipMember, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=8, choices=Stage.choices)
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["relationship", "author", "stage"], name="survey_once_per_stage"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} survey by {self.author}"


class SurveyAnswer(models.Model):
    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(FeedbackQuestion, on_delete=models.PROTECT, related_name="+")
    scale_value = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    text_value = models.TextField(blank=True)
    # Copied from the question when answered: who may read it does not change afterwards.
    visible_to = models.CharField(max_length=11, choices=FeedbackQuestion.VisibleTo.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="answer_once"),
        ]

    def __str__(self) -> str:
        return f"Answer to {self.question}"


class ReadinessRating(models.Model):
    """The question the final survey asks each mentor about each of their mentees: how ready
    they are for a next role. It feeds the leadership pipeline of the cohort's close-out report
    (succession planning), so, unlike the program's own questions, it is read next to the
    mentee's name: by the program's coordinators and by the report's readers (the leaders who
    sponsor the program). The mentee does not see it."""

    QUESTION = "How ready is {name} for a next role, such as a bigger team or a leadership step?"
    READERS = (
        "Read by the program's coordinators and by the readers of the cohort's close-out "
        "report (the leaders who sponsor the program, for succession planning), next to your "
        "mentee's name. Your mentee does not see it."
    )

    class Readiness(models.TextChoices):
        READY_NOW = "ready_now", "Ready now"
        READY_SOON = "ready_soon", "Ready within a year"
        LATER = "later", "Ready in one to two years"
        NOT_YET = "not_yet", "Not a goal for now: growing in the current role"
        CANNOT_SAY = "cannot_say", "I cannot say"

    response = models.ForeignKey(
        SurveyResponse, on_delete=models.CASCADE, related_name="readiness_ratings"
    )
    mentee = models.ForeignKey(RelationshipMember, on_delete=models.CASCADE, related_name="+")
    readiness = models.CharField(max_length=10, choices=Readiness.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["response", "mentee"], name="readiness_once_per_mentee"
            ),
        ]

    def __str__(self) -> str:
        return f"Readiness of {self.mentee}: {self.get_readiness_display()}"


class Reflection(models.Model):
    """A journal entry, prompted by the stage of the relationship. Private unless shared."""

    class Stage(models.TextChoices):
        START = "start", "Start"
        MIDDLE = "middle", "Middle"
        END = "end", "End"

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reflections"
    )
    relationship = models.ForeignKey(
        Relationship, on_delete=models.CASCADE, related_name="reflections"
    )
    stage = models.CharField(max_length=6, choices=Stage.choices)
    prompt = models.CharField(max_length=300)
    text = models.TextField()
    shared = models.BooleanField(
        default=False, help_text="Let the others in the relationship read it."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["author", "-created_at"]

    def __str__(self) -> str:
        return f"Reflection {self.pk}"  # never the text


def new_calendar_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A person's private, revocable link to an .ics of their upcoming meetings."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=new_calendar_token)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"
