from __future__ import annotations

import uuid

from django.contrib.contenttypes.models import ContentType
from django.db import models

from .models import SubmissionToken, User


def submission_created(
    *, user: User, token: uuid.UUID | None, model: type[models.Model]
) -> models.Model | None:
    """What an earlier submit of the form with this one-time `token` created, if it did: for a
    view that answers a resent form before it reaches the create service."""
    if token is None:
        return None
    object_id = (
        SubmissionToken.objects.filter(
            user=user, token=token, content_type=ContentType.objects.get_for_model(model)
        )
        .values_list("object_id", flat=True)
        .first()
    )
    if object_id is None:
        return None
    return model._default_manager.filter(pk=object_id).first()
