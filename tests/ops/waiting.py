"""Waiting for another process (a beat, a worker, gunicorn) in the operations tests."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

# Generous: a loaded CI machine starts Django processes slowly.
WAIT_SECONDS = 60


def wait_for(condition: Callable[[], bool], *, what: str, seconds: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out after {seconds}s waiting for {what}")
