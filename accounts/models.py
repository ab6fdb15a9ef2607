from __future__ import annotations

import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a time zone we know, e.g. Europe/London.")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: object) -> User:
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: coordinator, mentor, mentee or admin. Email is the login."""

    email = models.EmailField("email address", unique=True)
    display_name = models.CharField(
        max_length=150, help_text="How your name appears to mentors, mentees and coordinators."
    )
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="Dates and times are shown to you in this zone.",
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="Can sign in to the Django admin at /admin/."
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    class Meta:
        ordering = ["display_name", "email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_name.split(" ")[0] if self.display_name else self.email


class Profile(models.Model):
    """Who a person is at work, reused across every cohort they join."""

    class JobLevel(models.IntegerChoices):
        ENTRY = 1, "Entry level"
        PROFESSIONAL = 2, "Professional"
        SENIOR = 3, "Senior professional"
        LEAD = 4, "Team lead"
        MANAGER = 5, "Manager"
        SENIOR_MANAGER = 6, "Senior manager"
        DIRECTOR = 7, "Director"
        EXECUTIVE = 8, "Executive"

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    job_title = models.CharField(max_length=150, blank=True)
    department = models.CharField(max_length=100, blank=True)
    job_level = models.PositiveSmallIntegerField(choices=JobLevel.choices, null=True, blank=True)
    manager = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="direct_report_profiles",
        help_text="Used to keep people out of their own reporting chain when matching.",
    )
    location = models.CharField(max_length=100, blank=True)
    languages = models.JSONField(
        default=list, blank=True, help_text="Languages the person can mentor in, e.g. English."
    )
    bio = models.TextField(blank=True)
    is_external = models.BooleanField(
        default=False, help_text="From outside the organisation; sees only the programs they join."
    )
    organisation = models.CharField(
        max_length=150, blank=True, help_text="For external mentors: where they work."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(manager=models.F("user")), name="profile_not_own_manager"
            ),
        ]

    def __str__(self) -> str:
        return f"Profile of {self.user}"

    @property
    def missing_fields(self) -> list[str]:
        """What matching would like to know and does not yet."""
        missing = []
        if not self.department and not self.is_external:
            missing.append("department")
        if self.job_level is None:
            missing.append("job level")
        if not self.languages:
            missing.append("languages")
        return missing


class SubmissionToken(models.Model):
    """A create form's one-time token, claimed by the service that creates with it.

    Every create form carries a fresh token (`common.forms.SubmissionTokenMixin`); the service
    claims it in its own transaction (`accounts.services.submission_claim`) and ties it to what
    it created (`submission_record`). The same form sent again (a double click, a reload, the
    back button) finds the token taken and is shown what the first submit made: nothing is
    created, and nobody is emailed, twice. Rows are only needed while a page can be resent, so
    a daily task deletes old ones (`submission_tokens_purge`)."""

    token = models.UUIDField()
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    # What the first submit created: its model when claimed, its id once created (in the same
    # transaction, so a committed row always has both).
    content_type = models.ForeignKey(
        "contenttypes.ContentType", on_delete=models.CASCADE, related_name="+"
    )
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "token"], name="submission_token_once"),
        ]

    def __str__(self) -> str:
        return f"{self.token} by {self.user_id}"
