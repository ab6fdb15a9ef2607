from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    return {"embedded_mode": settings.CELERY_TASK_ALWAYS_EAGER and settings.DEBUG}
