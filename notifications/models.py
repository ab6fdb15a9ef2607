from __future__ import annotations

from django.db import models
from django.utils import timezone


class OutboundEmail(models.Model):
    """One email on its way out: the row is the outbox, the Celery task only a wake-up call.

    A row is claimed before sending (QUEUED or FAILED -> SENDING, a conditional UPDATE), so a task
    delivered twice (acks_late re-delivers after a worker dies, the relay re-publishes) never
    sends the message twice. The relay (notifications.services.outbound) reads the row, not the
    broker: a QUEUED or retryable FAILED email not claimed within the grace period after
    `due_at` is published again, so a queue lost with Redis loses no email.

    SENDING past the timeout (the worker died during the SMTP call): SMTP cannot tell whether
    the message left. A lost invitation or reminder costs more than a rare second copy, so it
    is sent again once, flagged `possible_duplicate`. An email that gets stuck a second time is
    not sent a third time: it is marked FAILED with the reason, for an admin to resend."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    to = models.JSONField(help_text="Recipient addresses.")
    headers = models.JSONField(
        default=dict, blank=True, help_text="Extra headers, e.g. List-Unsubscribe."
    )
    subject = models.CharField(max_length=300)
    text_body = models.TextField(blank=True)
    html_body = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    due_at = models.DateTimeField(
        null=True,
        blank=True,
        default=timezone.now,
        help_text="When it became due to be sent (queued, or its retry after a failure); not "
        "claimed by a worker within the grace period after this, the relay publishes it again. "
        "Empty: no automatic retry is left.",
    )
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker last claimed it to send it."
    )
    possible_duplicate = models.BooleanField(
        default=False,
        help_text="A worker stopped while sending it, so it was sent again: the recipient may "
        "have it twice.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["status", "due_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)}"


class Notification(models.Model):
    """One message to one person: shown in their notification centre (when they have an account)
    and emailed. Its `key` names what it is about (kind, object, recipient and, for a repeating
    reminder, the period), and a key is notified once: a service or sweep that runs twice, or two
    at once, sends nothing twice."""

    class Kind(models.TextChoices):
        # The values are the names of the email templates (templates/emails/<kind>-*.txt).
        INVITATION = "invitation", "Invitation to a cohort"
        INVITATION_RENEWAL_REQUEST = "invitation-renewal-request", "Request for a new invitation"
        MATCH_PUBLISHED = "match-published", "You are matched"
        CHECK_IN_LOGGED = "check-in-logged", "A meeting was logged"
        AGREEMENT_CHANGED = "agreement-changed", "The agreement changed"
        MENTOR_REQUEST = "mentor-request", "A mentee asks you to mentor them"
        MENTOR_REQUEST_ACCEPTED = "mentor-request-accepted", "Your mentor request was accepted"
        MENTOR_REQUEST_DECLINED = "mentor-request-declined", "Your mentor request was declined"
        MENTOR_REQUEST_QUESTION = "mentor-request-question", "A mentor asks about your request"
        MENTOR_REQUEST_ANSWERED = "mentor-request-answered", "A mentee answered your question"
        MENTOR_REQUEST_EXPIRED = "mentor-request-expired", "A mentor request expired"
        MENTOR_REQUEST_NONE_LEFT = "mentor-request-none-left", "No mentor choices left"
        RELATIONSHIP_ENDED = "relationship-ended", "A relationship ended early"
        RELATIONSHIP_CLOSED = "relationship-closed", "A relationship closed"
        # Reminders, from the periodic sweep (notifications/rules.py).
        CHECK_IN_DUE = "check-in-due", "A check-in is due"
        CHECK_IN_OVERDUE = "check-in-overdue", "A check-in is overdue"
        CHECK_IN_TO_CONFIRM = "check-in-to-confirm", "A meeting waits for your confirmation"
        MEETINGS_TO_RATE = "meetings-to-rate", "Meetings to rate"
        AGREEMENT_UNSIGNED = "agreement-unsigned", "The agreement is not signed yet"
        GOAL_DUE_SOON = "goal-due-soon", "A goal's target date is near"
        GOAL_OVERDUE = "goal-overdue", "A goal is past its target date"
        SURVEY_OPEN = "survey-open", "A feedback survey is open"
        SURVEY_UNANSWERED = "survey-unanswered", "A feedback survey waits for your answers"
        REQUEST_UNANSWERED = "request-unanswered", "A mentee's request waits for your answer"
        INVITATION_UNACCEPTED = "invitation-unaccepted", "Your invitation is not accepted yet"
        RELATIONSHIP_AT_RISK = "relationship-at-risk", "A relationship is at risk"
        COORDINATOR_DIGEST = "coordinator-digest", "Weekly summary for coordinators"
        DAILY_DIGEST = "daily-digest", "Your reminders for today"
        ANNOUNCEMENT = "announcement", "Announcement from a coordinator"

    class Delivery(models.TextChoices):
        EMAIL_NOW = "now", "Email now"
        EMAIL_DAILY = "daily", "In the next daily email"
        IN_APP = "in-app", "In the app only"

    recipient = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        help_text="Empty for an invitation to an address that has no account yet.",
    )
    email = models.EmailField(help_text="Where the email went.")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    key = models.CharField(max_length=200, unique=True)
    title = models.CharField(max_length=300)
    url = models.CharField(max_length=500, blank=True, help_text="The page to act on.")
    delivery = models.CharField(
        max_length=8,
        choices=Delivery.choices,
        default=Delivery.EMAIL_NOW,
        help_text="Reminders wait for the person's daily email; a kind they turned off stays "
        "in the app.",
    )
    outbound_email = models.OneToOneField(
        OutboundEmail, null=True, blank=True, on_delete=models.SET_NULL, related_name="notification"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "read_at", "created_at"]),
            models.Index(fields=["delivery", "outbound_email"]),
        ]

    def __str__(self) -> str:
        return f"{self.title} → {self.email}"

    @property
    def is_unread(self) -> bool:
        return self.read_at is None


# Messages a person cannot turn off: they answer something the person did, or carry an
# invitation they need. Reminders, digests and announcements can be turned off per kind.
TRANSACTIONAL_KINDS = frozenset(
    {
        Notification.Kind.INVITATION,
        Notification.Kind.INVITATION_RENEWAL_REQUEST,
        Notification.Kind.MATCH_PUBLISHED,
        Notification.Kind.MENTOR_REQUEST_ACCEPTED,
        Notification.Kind.MENTOR_REQUEST_DECLINED,
        Notification.Kind.MENTOR_REQUEST_NONE_LEFT,
        Notification.Kind.RELATIONSHIP_ENDED,
        Notification.Kind.RELATIONSHIP_CLOSED,
    }
)


class NotificationPreference(models.Model):
    """A kind of message a person does not want by email (it still reaches their notification
    centre). No row: they get it."""

    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=40, choices=Notification.Kind.choices)
    email = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_once")
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind} by email {'on' if self.email else 'off'}"
