"""Every response carries a request id; every log line of that request, and of the Celery tasks
it started, carries the same id, in text and in JSON (LOG_FORMAT=json)."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from common.logging import JsonFormatter, LogContextFilter
from common.request_id import REQUEST_ID_HEADER

pytestmark = pytest.mark.django_db

GENERATED_ID = re.compile(r"[0-9a-f]{32}")
LOGIN = "/accounts/login/"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Every log line as production writes it with LOG_FORMAT=json."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(LogContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous_level)


def json_lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_it_answers_every_request_with_its_own_request_id(client: Client):
    first = client.get(LOGIN)
    second = client.get(LOGIN)

    assert GENERATED_ID.fullmatch(first[REQUEST_ID_HEADER])
    assert GENERATED_ID.fullmatch(second[REQUEST_ID_HEADER])
    assert first[REQUEST_ID_HEADER] != second[REQUEST_ID_HEADER]


def test_it_makes_its_own_id_when_no_trusted_proxy_sent_one(client: Client):
    response = client.get(LOGIN, HTTP_X_REQUEST_ID="chosen-by-the-client")

    assert response[REQUEST_ID_HEADER] != "chosen-by-the-client"
    assert GENERATED_ID.fullmatch(response[REQUEST_ID_HEADER])


def test_it_keeps_the_id_a_trusted_proxy_sent_unless_it_is_malformed(client: Client, settings):
    settings.REQUEST_ID_HEADER_TRUSTED = True

    kept = client.get(LOGIN, HTTP_X_REQUEST_ID="edge-7f3a:42")
    forged = client.get(LOGIN, HTTP_X_REQUEST_ID='x" level="CRITICAL')

    assert kept[REQUEST_ID_HEADER] == "edge-7f3a:42"
    assert GENERATED_ID.fullmatch(forged[REQUEST_ID_HEADER])


@pytest.mark.urls("tests.ops.log_probe")
def test_a_requests_log_lines_and_the_task_it_started_carry_its_id(client: Client, json_log):
    token = uuid.uuid4().hex

    response = client.get("/probe/", {"token": token})
    logging.getLogger("tests.ops").info("after the request")

    request_id = response[REQUEST_ID_HEADER]
    lines = {line["message"]: line for line in json_lines(json_log)}
    page, task = lines["probe page served"], lines["probe task ran"]
    assert page["request_id"] == request_id
    assert page["token"] == token
    assert task["request_id"] == request_id
    assert task["token"] == token
    assert task["task"].startswith("tests.ops.log_probe.probe_log_task[")
    assert "request_id" not in lines["after the request"]


def test_the_text_format_shows_the_request_id(client: Client):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(LogContextFilter())
    logging_config: dict[str, Any] = settings.LOGGING
    handler.setFormatter(logging.Formatter(logging_config["formatters"]["plain"]["format"]))
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        response = client.get("/no-such-page/")
    finally:
        logger.removeHandler(handler)

    assert response.status_code == 404
    assert f"[{response[REQUEST_ID_HEADER]}]: Not Found: /no-such-page/" in stream.getvalue()


def test_a_json_line_stays_one_valid_line_with_its_traceback():
    record = logging.LogRecord(
        "mentorship", logging.ERROR, __file__, 1, 'a "quoted"\nmessage', None, None
    )
    try:
        raise ValueError("boom")
    except ValueError:
        record.exc_info = sys.exc_info()
    record.relationship_id = 7
    LogContextFilter().filter(record)

    line = JsonFormatter().format(record)

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == 'a "quoted"\nmessage'
    assert entry["level"] == "ERROR"
    assert entry["relationship_id"] == 7
    assert "ValueError: boom" in entry["exception"]
    assert "request_id" not in entry
