"""A task and a page that only the observability tests load: the page logs a line and queues the
task, the task logs a line, so a test can follow one request id from the page to the task.

Used as a URLconf (`pytest.mark.urls("tests.ops.log_probe")`) and as a worker include
(`celery worker --include tests.ops.log_probe`)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.http import HttpRequest, HttpResponse
from django.urls import path

logger = logging.getLogger("tests.ops.log_probe")


@shared_task
def probe_log_task(*, token: str) -> None:
    logger.info("probe task ran", extra={"token": token})


def probe_view(request: HttpRequest) -> HttpResponse:
    token = request.GET["token"]
    logger.info("probe page served", extra={"token": token})
    probe_log_task.delay(token=token)
    return HttpResponse("queued")


urlpatterns = [path("probe/", probe_view)]
