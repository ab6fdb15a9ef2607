from __future__ import annotations

import datetime as dt
import uuid

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from .models import SubmissionToken, User

# Shown when a form comes back with a token already used: a double click, a reload of the page
# the form answered, or the back button and "send" again.
ALREADY_SAVED = "Already saved: the form was sent twice, and it was kept once."
SUBMISSION_BUSY = "This form is being sent from elsewhere at this moment: reload the page."
# How long a used token keeps a resent form from creating again (a tab left open for longer
# makes a new object, as a new form would).
SUBMISSION_TOKEN_KEPT = dt.timedelta(days=30)


class AlreadySubmittedError(Exception):
    """The same form was submitted before and created `created`: show that one."""

    def __init__(self, created: models.Model) -> None:
        super().__init__(ALREADY_SAVED)
        self.created = created


@transaction.atomic
def user_update_settings(*, user: User, display_name: str, time_zone: str) -> User:
    """Change how a person is named and which time zone their pages use."""
    user.display_name = display_name.strip()
    user.time_zone = time_zone
    user.full_clean()
    user.save(update_fields=["display_name", "time_zone"])
    return user


def submission_claim(
    *, user: User | None, token: uuid.UUID | None, model: type[models.Model]
) -> None:
    """Claim a create form's one-time `token` for this submit, first thing in the create
    service's transaction (the claim commits or rolls back with what the service creates).

    Raises AlreadySubmittedError with what an earlier submit of the same form created. Two
    submits at the same moment (a double click) cannot both claim: on PostgreSQL the second
    waits at the unique key until the first commits, then finds its object; if the first
    failed and rolled back, the second claims the token and creates. No token (a page drawn
    before tokens, or a client that sends none) or no user (a service called from code):
    nothing to claim, the submit creates."""
    if token is None or user is None:
        return
    content_type = ContentType.objects.get_for_model(model)
    for _ in range(3):
        try:
            with transaction.atomic():
                SubmissionToken.objects.create(token=token, user=user, content_type=content_type)
        except IntegrityError:
            pass
        else:
            return
        first = SubmissionToken.objects.filter(token=token, user=user).first()
        if first is None:  # purged meanwhile: claim again
            continue
        created = None
        if first.content_type_id == content_type.pk and first.object_id is not None:
            created = model._default_manager.filter(pk=first.object_id).first()
        if created is not None:
            raise AlreadySubmittedError(created)
        # What the first submit made is gone (deleted since): the form may create again.
        first.delete()
    # Only a token claimed, deleted and claimed again by other submits at once comes here.
    raise ValidationError(SUBMISSION_BUSY)  # pragma: no cover


def submission_record(*, user: User | None, token: uuid.UUID | None, created: models.Model) -> None:
    """Tie a claimed token to what the submit created, last thing in the same transaction."""
    if token is None or user is None:
        return
    SubmissionToken.objects.filter(token=token, user=user).update(object_id=created.pk)


def submission_tokens_purge(*, now: dt.datetime | None = None) -> int:
    """Forget tokens older than SUBMISSION_TOKEN_KEPT; returns how many. Safe to run twice."""
    cutoff = (now or timezone.now()) - SUBMISSION_TOKEN_KEPT
    deleted, _ = SubmissionToken.objects.filter(created_at__lt=cutoff).delete()
    return deleted
