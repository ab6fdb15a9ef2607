from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import validate_time_zone


def new_token() -> str:
    return secrets.token_urlsafe(24)


DEFAULT_AGREEMENT_TEMPLATE = """\
Purpose: what we want to achieve together in this program.
Meetings: how often we meet, for how long, and how (in person, video, phone).
Confidentiality: what we discuss stays between us unless we both agree otherwise.
Feedback: we give each other honest, kind feedback, both ways.
Ending: either of us can end the relationship early by telling the other and the coordinator.
"""


class Competency(models.Model):
    """A term of the shared vocabulary: something a person can develop, seek, offer or be expert
    in. Matching compares these, so duplicates are merged rather than left to drift."""

    class Status(models.TextChoices):
        APPROVED = "approved", "Approved"
        SUGGESTED = "suggested", "Suggested (awaiting a coordinator)"

    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.APPROVED)
    suggested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "competencies"
        constraints = [
            models.UniqueConstraint(Lower("name"), name="competency_name_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class CompetencySynonym(models.Model):
    """Another way people write a competency ("public speaking" for "presentation skills")."""

    competency = models.ForeignKey(Competency, on_delete=models.CASCADE, related_name="synonyms")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="competency_synonym_name_ci_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} → {self.competency}"


class Program(models.Model):
    class Kind(models.TextChoices):
        ONE_TO_ONE = "one_to_one", "One-to-one"
        REVERSE = "reverse", "Reverse mentoring"
        PEER = "peer", "Peer mentoring"
        CIRCLE = "circle", "Group circles"

    name = models.CharField(max_length=150)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.ONE_TO_ONE)
    coordinators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="coordinated_programs", blank=True
    )
    meeting_cadence_days = models.PositiveSmallIntegerField(
        default=14, help_text="How often pairs are expected to meet, in days."
    )
    length_weeks = models.PositiveSmallIntegerField(
        default=26, help_text="How long a cohort's relationships run, in weeks."
    )
    default_mentor_capacity = models.PositiveSmallIntegerField(
        default=1, help_text="How many mentees a mentor takes unless they say otherwise."
    )
    circle_size = models.PositiveSmallIntegerField(
        default=5, help_text="Group circles only: members per circle, mentors included."
    )
    mentors_per_circle = models.PositiveSmallIntegerField(
        default=1, help_text="Group circles only: one or two mentors lead each circle."
    )
    mentees_may_request = models.BooleanField(
        default=False, help_text="Mentees may browse recommended mentors and request one."
    )
    allows_external_mentors = models.BooleanField(default=False)
    agreement_template = models.TextField(default=DEFAULT_AGREEMENT_TEMPLATE)
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="The time zone of people who join without giving one (an imported row without "
        "a zone, an invited person's new account). Each person can change theirs.",
    )
    # Reminders (goals.reminder_sweep; the defaults are notifications.rules.Thresholds').
    reminder_check_in_grace_days = models.PositiveSmallIntegerField(
        default=7, help_text="Days after a check-in falls due before it is overdue."
    )
    reminder_confirm_after_days = models.PositiveSmallIntegerField(
        default=2,
        help_text="Days a logged meeting waits for the partner to confirm and rate it.",
    )
    reminder_agreement_unsigned_days = models.PositiveSmallIntegerField(
        default=7, help_text="Days after the start before an unsigned agreement is a reminder."
    )
    reminder_goal_due_soon_days = models.PositiveSmallIntegerField(
        default=7, help_text="Days before a goal's target date to remind its owner."
    )
    reminder_survey_unanswered_days = models.PositiveSmallIntegerField(
        default=7, help_text="Days after a survey opens before a second reminder."
    )
    reminder_request_unanswered_days = models.PositiveSmallIntegerField(
        default=3, help_text="Days a mentee's request waits before the mentor is reminded."
    )
    reminder_invitation_unaccepted_days = models.PositiveSmallIntegerField(
        default=5, help_text="Days after an invitation before it is sent a reminder."
    )
    reminder_survey_response_percent = models.PositiveSmallIntegerField(
        default=60,
        help_text="The weekly coordinator summary flags surveys answered by fewer than this "
        "share of members.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(meeting_cadence_days__gte=1), name="program_cadence_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(mentors_per_circle__in=[1, 2]),
                name="program_one_or_two_circle_mentors",
            ),
            models.CheckConstraint(
                condition=models.Q(circle_size__gte=2), name="program_circle_has_members"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.kind == self.Kind.CIRCLE and self.circle_size <= self.mentors_per_circle:
            raise ValidationError(
                {"circle_size": "A circle needs room for at least one mentee besides its mentors."}
            )


class FeedbackQuestion(models.Model):
    """A question of the program's midpoint and final surveys."""

    class AnswerKind(models.TextChoices):
        SCALE = "scale", "Scale of 1 to 5"
        TEXT = "text", "Free text"

    class AskedOf(models.TextChoices):
        MENTEE = "mentee", "Mentees, about their mentor and the relationship"
        MENTOR = "mentor", "Mentors, about their mentee and the relationship"
        EVERYONE = "everyone", "Everyone"

    class VisibleTo(models.TextChoices):
        PARTNER = "partner", "The partner and the coordinator"
        COORDINATOR = "coordinator", "The coordinator only"

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="questions")
    text = models.CharField(max_length=300)
    answer_kind = models.CharField(max_length=5, choices=AnswerKind.choices)
    asked_of = models.CharField(max_length=8, choices=AskedOf.choices, default=AskedOf.EVERYONE)
    visible_to = models.CharField(
        max_length=11, choices=VisibleTo.choices, default=VisibleTo.COORDINATOR
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["program", "position", "pk"]

    def __str__(self) -> str:
        return self.text


class Cohort(models.Model):
    """One run of a program, with its own people, dates and lifecycle."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ENROLLING = "enrolling", "Enrolling"
        MATCHING = "matching", "Matching"
        ACTIVE = "active", "Active"
        CLOSING = "closing", "Closing"
        CLOSED = "closed", "Closed"

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="cohorts")
    name = models.CharField(max_length=150)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    starts_on = models.DateField()
    ends_on = models.DateField()
    enrolment_opens_on = models.DateField(null=True, blank=True)
    enrolment_closes_on = models.DateField(null=True, blank=True)
    cloned_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    application_token = models.CharField(
        max_length=64,
        unique=True,
        default=new_token,
        help_text="The secret part of the cohort's public application link.",
    )
    final_feedback_opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_on", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gt=models.F("starts_on")),
                name="cohort_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(enrolment_opens_on__isnull=True)
                | models.Q(enrolment_closes_on__isnull=True)
                | models.Q(enrolment_closes_on__gte=models.F("enrolment_opens_on")),
                name="cohort_enrolment_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program} — {self.name}"

    @property
    def enrolment_window_is_open(self) -> bool:
        today = timezone.localdate()
        if self.status != self.Status.ENROLLING:
            return False
        if self.enrolment_opens_on and today < self.enrolment_opens_on:
            return False
        return not (self.enrolment_closes_on and today > self.enrolment_closes_on)


class CohortQuestion(models.Model):
    """A question the coordinator adds to the cohort's application form."""

    class AnswerKind(models.TextChoices):
        SHORT_TEXT = "short", "Short answer"
        LONG_TEXT = "long", "Paragraph"
        YES_NO = "yes_no", "Yes or no"

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="questions")
    text = models.CharField(max_length=300)
    answer_kind = models.CharField(
        max_length=6, choices=AnswerKind.choices, default=AnswerKind.SHORT_TEXT
    )
    is_required = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["cohort", "position", "pk"]

    def __str__(self) -> str:
        return self.text


class Enrolment(models.Model):
    """A person's place in one cohort: their role, where their application stands, and what they
    bring and seek this time."""

    class Role(models.TextChoices):
        MENTOR = "mentor", "Mentor"
        MENTEE = "mentee", "Mentee"
        PEER = "peer", "Peer"

    class Status(models.TextChoices):
        INVITED = "invited", "Invited"
        APPLIED = "applied", "Applied"
        APPROVED = "approved", "Approved"
        WAITLISTED = "waitlisted", "Waitlisted"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="enrolments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrolments"
    )
    role = models.CharField(max_length=6, choices=Role.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.APPLIED)
    capacity = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Mentors: how many mentees they can take this cohort."
    )
    competencies: models.ManyToManyField[Competency, EnrolmentCompetency] = models.ManyToManyField(
        Competency, through="EnrolmentCompetency", related_name="enrolments", blank=True
    )
    development_goals = models.TextField(
        blank=True, help_text="In their own words: what they want to develop."
    )
    hopes = models.TextField(blank=True, help_text="What they hope to get out of the program.")
    availability = models.CharField(
        max_length=200, blank=True, help_text="e.g. “Tuesday and Thursday afternoons”."
    )
    prefers_other_department = models.BooleanField(default=False)
    prefers_same_time_zone = models.BooleanField(default=False)
    application_answers = models.JSONField(
        default=dict, blank=True, help_text="Answers to the cohort's own questions, by question id."
    )
    withdrawal_reason = models.CharField(max_length=300, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["cohort", "role", "user__display_name"]
        constraints = [
            models.UniqueConstraint(fields=["cohort", "user"], name="enrolment_once_per_cohort"),
            models.CheckConstraint(
                condition=models.Q(role="mentee", capacity__isnull=True) | ~models.Q(role="mentee"),
                name="enrolment_capacity_only_for_mentors",
            ),
        ]
        indexes = [models.Index(fields=["cohort", "role", "status"])]

    def __str__(self) -> str:
        return f"{self.user} as {self.get_role_display().lower()} in {self.cohort}"

    STATUS_EXPLANATIONS: dict[str, str] = {
        Status.INVITED: "The coordinator added you to this cohort and will confirm your place. "
        "Check your details meanwhile.",
        Status.APPLIED: "Your application is with the coordinator.",
        Status.APPROVED: "You are in. Matching comes next.",
        Status.WAITLISTED: "You are on the waiting list; the coordinator will tell you if a "
        "place opens.",
        Status.DECLINED: "The coordinator could not offer you a place this time.",
        Status.WITHDRAWN: "You withdrew.",
    }

    @property
    def status_explanation(self) -> str:
        """What the status means for the participant, in their words (home and enrolment).
        Knows about matches when the read annotated `active_relationship_count`."""
        active_relationships: int = getattr(self, "active_relationship_count", 0)
        if self.status == self.Status.APPROVED and active_relationships:
            return "You are matched: open My mentoring to meet them."
        return self.STATUS_EXPLANATIONS[self.status]


class EnrolmentCompetency(models.Model):
    class Kind(models.TextChoices):
        DEVELOP = "develop", "Wants to develop"
        SEEK = "seek", "Seeks the skill"
        OFFER = "offer", "Offers the skill"
        EXPERTISE = "expertise", "Has expertise"

    enrolment = models.ForeignKey(
        Enrolment, on_delete=models.CASCADE, related_name="competency_links"
    )
    competency = models.ForeignKey(Competency, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=9, choices=Kind.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment", "competency", "kind"], name="enrolment_competency_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrolment.user}: {self.get_kind_display().lower()} {self.competency}"


INVITATION_LIFETIME = timedelta(days=14)


def invitation_expiry() -> datetime:
    return timezone.now() + INVITATION_LIFETIME


class Invitation(models.Model):
    """A single-use, expiring link that brings one person into a cohort in a given role."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=6, choices=Enrolment.Role.choices)
    is_external = models.BooleanField(
        default=False, help_text="A mentor from outside the organisation."
    )
    token = models.CharField(max_length=64, unique=True, default=new_token)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=invitation_expiry)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="accepted_invitations",
    )
    renewal_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["cohort", "email"])]

    def __str__(self) -> str:
        return f"Invitation for {self.email} to {self.cohort}"

    @property
    def is_used(self) -> bool:
        return self.accepted_at is not None

    @property
    def is_expired(self) -> bool:
        return not self.is_used and timezone.now() >= self.expires_at


class ParticipantImport(models.Model):
    """An uploaded participant file between upload and import: the parsed table is kept so the
    coordinator can fix the column mapping and preview without uploading again."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for review"
        IMPORTED = "imported", "Imported"

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="imports")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    filename = models.CharField(max_length=255)
    headers = models.JSONField(default=list)
    rows = models.JSONField(default=list, help_text="[line, [cells…]] pairs as read.")
    mapping = models.JSONField(default=dict, help_text="Column index → field name.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    imported_count = models.PositiveIntegerField(default=0)
    created_people = models.PositiveIntegerField(default=0, help_text="New accounts made.")
    enrolled_count = models.PositiveIntegerField(default=0, help_text="Added to the cohort.")
    updated_count = models.PositiveIntegerField(default=0, help_text="Already in; updated.")
    invited_at = models.DateTimeField(null=True, blank=True)
    invited_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} into {self.cohort}"


# Created by migration 0002 (and by `services.coordinators_group_ensure`); an admin adds people
# to it to let them create programs and look after the shared vocabulary.
COORDINATORS_GROUP = "Program coordinators"
COORDINATORS_GROUP_PERMISSIONS = ("add_program", "change_competency")


class Announcement(models.Model):
    """A message a coordinator writes to a whole cohort, or to one role in it. A worker delivers
    it to each recipient's notification centre (and by email, unless they turned announcements
    off), and `delivered` counts the recipients done so far for the page that follows it."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="announcements")
    role = models.CharField(
        max_length=6,
        choices=Enrolment.Role.choices,
        blank=True,
        help_text="Empty: everyone approved in the cohort.",
    )
    subject = models.CharField(max_length=150)
    body = models.TextField(max_length=5000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0, help_text="Recipients when delivery began.")
    delivered = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    token = models.CharField(
        max_length=64,
        unique=True,
        default=new_token,
        help_text="Sent with the form: a second submit of the same form finds this row.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["cohort", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.subject} → {self.cohort}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SENT, self.Status.FAILED)

    @property
    def progress(self) -> int:
        if self.status == self.Status.SENT:
            return 100
        return min(100, self.delivered * 100 // self.total) if self.total else 0

    @property
    def audience(self) -> str:
        """Who reads it, as the form and the list say it: "mentees", or "everyone"."""
        return f"{self.get_role_display().lower()}s" if self.role else "everyone"


class BulkJob(models.Model):
    """An action over many people that a worker does in batches while the page shows how far it
    got: publishing a matching run, emailing invitations. The domain rows carry which people are
    done (a proposal marked published, the job's `done` cursor over its list of invitees), so a
    re-run after a crash continues where it stopped; `key` names what the job acts on, and only
    one job per key can be queued or running, so a second press finds the first job."""

    class Kind(models.TextChoices):
        PUBLISH = "publish", "Publishing matches"
        INVITE = "invite", "Emailing invitations"
        APPROVE = "approve", "Approving people"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="bulk_jobs")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    key = models.CharField(max_length=100, help_text="What the job acts on, e.g. run:12:publish.")
    title = models.CharField(max_length=200)
    task_name = models.CharField(
        max_length=200, help_text="The Celery task that runs it (and resumes it when stalled)."
    )
    payload = models.JSONField(default=dict, blank=True, help_text="What the task needs to know.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    summary = models.CharField(max_length=300, blank=True, help_text="The outcome, in a line.")
    details = models.JSONField(
        default=list, blank=True, help_text="Lines the coordinator should read: who was skipped."
    )
    error = models.TextField(blank=True)
    next_url = models.CharField(max_length=300, blank=True, help_text="Where to go once done.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by hand on every batch (QuerySet.update skips auto_now): a job that has not moved for
    # a while has lost its worker and is resumed.
    updated_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"],
                condition=models.Q(status__in=["queued", "running"]),
                name="bulk_job_one_active_per_key",
            ),
        ]
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_status_display().lower()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def progress(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(99, self.done * 100 // self.total) if self.total else 0
