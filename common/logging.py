"""Log context (request id, Celery task) and the JSON formatter.

`LOG_FORMAT=json` switches every log line (Django, Celery worker and beat, gunicorn) to one JSON
object per line for a log collector; the default stays readable text for a person at a terminal.
Both carry the request id, so one id finds a request's lines and those of the tasks it started.

Plain standard library on purpose: gunicorn's master imports this before Django is set up.
"""

from __future__ import annotations

import json
import logging
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

# The id of the request being served, or of the request that queued the running task. Contextvars
# are per thread, so gunicorn's threads and Celery's pool never see each other's.
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
# "name[id]" of the Celery task running in this thread, if any.
task_var: ContextVar[str | None] = ContextVar("task", default=None)

NO_VALUE = "-"

# Attributes every LogRecord has; anything else on a record came from `extra=` and is data.
_RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "request_id", "task"}
)
_SCALARS = (str, int, float, bool, type(None))


class LogContextFilter(logging.Filter):
    """Puts the current request id and task on every record a handler emits (`-` when none),
    so a text format can name them and the JSON formatter can include them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # Django logs a 4xx/5xx response after the middleware has returned, with the request
            # attached to the record.
            record.request_id = (
                request_id_var.get()
                or getattr(getattr(record, "request", None), "request_id", None)
                or NO_VALUE
            )
        if not hasattr(record, "task"):
            record.task = task_var.get() or NO_VALUE
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id and
    task when known, scalar `extra=` fields, and the traceback as one string."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id and request_id != NO_VALUE:
            entry["request_id"] = request_id
        task = getattr(record, "task", None) or task_var.get()
        if task and task != NO_VALUE:
            entry["task"] = task
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            entry.update(_access_fields(record.args))
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in entry and isinstance(value, _SCALARS):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


def _access_fields(atoms: dict[str, Any]) -> dict[str, Any]:
    """gunicorn hands its access log the request's "atoms" as the record's arguments; keep the
    useful ones as fields, and the request id from our response header."""

    def atom(key: str) -> Any:
        value = dict.get(atoms, key)
        return None if value in (None, NO_VALUE) else value

    fields = {
        "remote_addr": atom("h"),
        "method": atom("m"),
        "path": atom("U"),
        "query": atom("q") or None,
        "status": _int_or_none(atom("s")),
        "bytes": _int_or_none(atom("B")),
        "duration_ms": _int_or_none(atom("M")),
        "user_agent": atom("a"),
        "request_id": atom("{x-request-id}o"),
    }
    return {key: value for key, value in fields.items() if value is not None}


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
