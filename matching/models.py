"""Matching runs and what they produce: proposals, reasons for the unmatched, and, once
published, the mentoring relationships that issue 5 builds on."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from matching.engine import Weights
from programs.models import BulkJob, Cohort, Enrolment, Program

_DEFAULT_WEIGHTS = Weights()


class MatchingConfig(models.Model):
    """A program's matching weights and rules. Coordinators see and change them; the defaults
    are the engine's."""

    program = models.OneToOneField(
        Program, on_delete=models.CASCADE, related_name="matching_config"
    )
    weight_development = models.FloatField(
        default=_DEFAULT_WEIGHTS.development,
        help_text="The mentee's development areas met by the mentor's expertise.",
    )
    weight_skills = models.FloatField(
        default=_DEFAULT_WEIGHTS.skills, help_text="Skills the mentee seeks that the mentor offers."
    )
    weight_department = models.FloatField(
        default=_DEFAULT_WEIGHTS.department,
        help_text="Another department, when the mentee asked for one.",
    )
    weight_level = models.FloatField(
        default=_DEFAULT_WEIGHTS.level, help_text="A level gap in the right direction."
    )
    weight_time_zone = models.FloatField(
        default=_DEFAULT_WEIGHTS.time_zone, help_text="Close time zones."
    )
    weight_language = models.FloatField(
        default=_DEFAULT_WEIGHTS.language, help_text="A shared language."
    )
    weight_text = models.FloatField(
        default=_DEFAULT_WEIGHTS.text, help_text="Similar words in what they wrote."
    )
    require_shared_language = models.BooleanField(default=True)
    max_time_zone_gap_hours = models.FloatField(
        null=True,
        blank=True,
        help_text="Never pair people further apart than this. Empty: no limit.",
    )
    allow_past_partners = models.BooleanField(
        default=False, help_text="Allow pairing people who were partners before."
    )
    max_peer_level_gap = models.PositiveSmallIntegerField(
        null=True, blank=True, default=2, help_text="Peer programs: the largest level difference."
    )
    request_response_days = models.PositiveSmallIntegerField(
        default=7, help_text="Self-service: days a mentor has to answer a request."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    weight_development__gte=0,
                    weight_skills__gte=0,
                    weight_department__gte=0,
                    weight_level__gte=0,
                    weight_time_zone__gte=0,
                    weight_language__gte=0,
                    weight_text__gte=0,
                ),
                name="matching_weights_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(request_response_days__gte=1), name="matching_days_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Matching settings of {self.program}"

    @property
    def weights(self) -> Weights:
        return Weights(
            development=self.weight_development,
            skills=self.weight_skills,
            department=self.weight_department,
            level=self.weight_level,
            time_zone=self.weight_time_zone,
            language=self.weight_language,
            text=self.weight_text,
        )


class MatchExclusion(models.Model):
    """A pair the coordinator never wants proposed (a known conflict, a team merger, …)."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="match_exclusions")
    first = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="match_exclusion_once"),
            models.CheckConstraint(
                condition=~models.Q(first=models.F("second")), name="match_exclusion_two_people"
            ),
        ]

    def __str__(self) -> str:
        return f"Never pair {self.first.user} with {self.second.user}"


class MatchRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Finished"
        FAILED = "failed", "Failed"

    class Objective(models.TextChoices):
        SCORE = "score", "Highest total score"
        COVERAGE = "coverage", "As many people matched as possible, then the highest score"

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="match_runs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    objective = models.CharField(max_length=8, choices=Objective.choices, default=Objective.SCORE)
    parameters = models.JSONField(
        default=dict, help_text="Weights, rules and locked pairs the run used, as it used them."
    )
    progress = models.PositiveSmallIntegerField(default=0)
    progress_message = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    objective_value = models.FloatField(null=True, blank=True)
    matched_count = models.PositiveIntegerField(default=0)
    unmatched_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    published_at = models.DateTimeField(
        null=True, blank=True, help_text="When the last accepted pair became a relationship."
    )
    publish_job = models.ForeignKey(
        BulkJob,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The job publishing this run; from then on its pairs stay as they are.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["cohort", "-created_at"])]

    def __str__(self) -> str:
        return f"Run {self.pk} of {self.cohort}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def average_score(self) -> float | None:
        if self.objective_value is None or not self.matched_count:
            return None
        return self.objective_value / self.matched_count


class Proposal(models.Model):
    """One proposed pair of a run (circles: one per mentor and member), and the coordinator's
    decision about it."""

    class Decision(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    class Publication(models.TextChoices):
        # Written by the publishing job, batch by batch: what a re-run after a crash skips.
        PENDING = "", "Not published"
        STARTED = "started", "Started as a relationship"
        SKIPPED = "skipped", "Skipped: a partner found another way, or the mentor is full"

    run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="proposals")
    mentor = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="+")
    mentee = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="+")
    circle_number = models.PositiveIntegerField(null=True, blank=True)
    score = models.FloatField()
    components = models.JSONField(default=dict, blank=True)
    explanation = models.TextField(blank=True)
    alternatives = models.JSONField(
        default=list,
        blank=True,
        help_text="The next-best mentors: [{mentor, score, has_capacity}].",
    )
    decision = models.CharField(max_length=8, choices=Decision.choices, default=Decision.PROPOSED)
    locked = models.BooleanField(default=False, help_text="Kept as it is when matching re-runs.")
    swapped_from = models.ForeignKey(
        Enrolment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    score_before_swap = models.FloatField(null=True, blank=True)
    publication = models.CharField(
        max_length=7, choices=Publication.choices, default=Publication.PENDING, blank=True
    )

    class Meta:
        ordering = ["run", "-score", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "mentor", "mentee"], name="proposal_pair_once_per_run"
            ),
        ]
        indexes = [
            # The run page's order (selectors.proposal_list_to_review): a page is read from
            # the index, not cut from a sort of the whole run.
            models.Index(
                fields=["run", "circle_number", "-score", "id"], name="proposal_run_page_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mentor.user} with {self.mentee.user} ({self.score:.2f})"


class UnmatchedResult(models.Model):
    run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="unmatched")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="+")
    reason_code = models.CharField(max_length=40)
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["run", "reason_code", "pk"]

    def __str__(self) -> str:
        return f"{self.enrolment.user}: {self.reason}"


class Relationship(models.Model):
    """A mentoring relationship: a published pair, a self-service pair, or a circle."""

    class Kind(models.TextChoices):
        PAIR = "pair", "Pair"
        CIRCLE = "circle", "Circle"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended"

    class Outcome(models.TextChoices):
        ACHIEVED = "achieved", "Goals achieved"
        PARTLY = "partly", "Goals partly achieved"
        ENDED_EARLY = "ended_early", "Ended early"

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="relationships")
    kind = models.CharField(max_length=6, choices=Kind.choices, default=Kind.PAIR)
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.ACTIVE)
    source_run = models.ForeignKey(
        MatchRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="relationships"
    )
    score = models.FloatField(null=True, blank=True)
    explanation = models.TextField(blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    end_reason = models.TextField(blank=True)
    replaces = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replaced_by"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["cohort", "-started_at"]
        indexes = [models.Index(fields=["cohort", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk} in {self.cohort}"


class RelationshipMember(models.Model):
    class Role(models.TextChoices):
        MENTOR = "mentor", "Mentor"
        MENTEE = "mentee", "Mentee"
        PEER = "peer", "Peer"

    relationship = models.ForeignKey(Relationship, on_delete=models.CASCADE, related_name="members")
    enrolment = models.ForeignKey(
        Enrolment, on_delete=models.CASCADE, related_name="relationship_memberships"
    )
    role = models.CharField(max_length=6, choices=Role.choices)

    class Meta:
        ordering = ["relationship", "role", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["relationship", "enrolment"], name="relationship_member_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrolment.user} ({self.get_role_display().lower()})"


class MentorRequest(models.Model):
    """Self-service: a mentee asks a recommended mentor. A mentee ranks up to three; one is
    with a mentor at a time, and the next goes out when it is declined or expires."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting behind an earlier choice"
        PENDING = "pending", "Waiting for the mentor"
        QUESTION = "question", "The mentor asked a question"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"
        WITHDRAWN = "withdrawn", "Withdrawn"

    OPEN_STATUSES = (Status.QUEUED, Status.PENDING, Status.QUESTION)

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="mentor_requests")
    mentee = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="requests_made")
    mentor = models.ForeignKey(
        Enrolment, on_delete=models.CASCADE, related_name="requests_received"
    )
    rank = models.PositiveSmallIntegerField(default=1)
    note = models.TextField(blank=True, help_text="The mentee's short note to the mentor.")
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.QUEUED)
    question = models.TextField(blank=True)
    answer = models.TextField(blank=True)
    decline_reason = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    respond_by = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    relationship = models.ForeignKey(
        Relationship, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["mentee", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["mentee", "mentor"], name="mentor_request_once"),
        ]
        indexes = [
            models.Index(fields=["status", "respond_by"]),
            models.Index(fields=["mentor", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.mentee.user} asks {self.mentor.user}"
