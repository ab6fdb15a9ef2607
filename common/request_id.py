"""A request id on every request, its log lines and the Celery tasks it starts.

The middleware takes the id from `X-Request-ID` when a proxy we trust set it (settings
`REQUEST_ID_HEADER_TRUSTED`, on when `TRUSTED_PROXY_COUNT` or `TRUSTED_CLIENT_IP_HEADER` says a
proxy is in front), otherwise makes one, and returns it in the response's `X-Request-ID`. A person
who reports a failure can quote it; an operator finds every line of that request, in gunicorn's
access log too, and of the tasks it queued: `task_publish_add_request_id` copies the id into the
task message's headers and `task_started_restore_request_id` puts it back while the task runs.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from contextvars import Token
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .logging import request_id_var, task_var

REQUEST_ID_HEADER = "X-Request-ID"
# The task message header that carries the id (prefixed: Celery merges message headers into the
# task's request context, where a bare `request_id` could collide with its own fields).
TASK_HEADER = "mentorship_request_id"
# An id from outside goes into logs verbatim: letters, digits and a little punctuation only, so a
# forged header cannot break a log line or forge another.
_VALID_ID = re.compile(r"[A-Za-z0-9._:+=/-]{1,128}")

# Tokens to undo what task_prerun set, by task id (one thread runs one task at a time, but an
# eager task runs inside the request or task that queued it, so restore rather than clear).
_task_tokens: dict[str, tuple[Token[str | None], Token[str | None]]] = {}


def request_id_new() -> str:
    return uuid.uuid4().hex


def request_id_from(request: HttpRequest) -> str:
    if getattr(settings, "REQUEST_ID_HEADER_TRUSTED", False):
        offered = request.headers.get(REQUEST_ID_HEADER, "").strip()
        if _VALID_ID.fullmatch(offered):
            return offered
    return request_id_new()


class RequestIdMiddleware:
    """First in MIDDLEWARE, so every later middleware's and view's log lines carry the id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request)
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


def task_publish_add_request_id(*, headers: dict[str, Any] | None = None, **_: Any) -> None:
    """Celery `before_task_publish`: the message carries the id of the request (or task) that
    queued it."""
    request_id = request_id_var.get()
    if request_id and headers is not None and TASK_HEADER not in headers:
        headers[TASK_HEADER] = request_id


def task_started_restore_request_id(
    *, task_id: str | None = None, task: Any = None, **_: Any
) -> None:
    """Celery `task_prerun`: while the task runs, log lines carry the id it was queued with. An
    eager task (run in-process) has no message; it keeps the caller's id."""
    if task_id is None or task is None:
        return
    carried = getattr(task.request, TASK_HEADER, None) or (
        (getattr(task.request, "headers", None) or {}).get(TASK_HEADER)
    )
    request_token = request_id_var.set(carried or request_id_var.get())
    task_token = task_var.set(f"{task.name}[{task_id}]")
    _task_tokens[task_id] = (request_token, task_token)


def task_finished_clear_request_id(*, task_id: str | None = None, **_: Any) -> None:
    """Celery `task_postrun`: the next task in this thread starts without the id."""
    tokens = _task_tokens.pop(task_id, None) if task_id is not None else None
    if tokens is None:
        return
    request_token, task_token = tokens
    try:
        task_var.reset(task_token)
        request_id_var.reset(request_token)
    except ValueError:  # set in another context (a pool that moved threads): just clear
        task_var.set(None)
        request_id_var.set(None)
