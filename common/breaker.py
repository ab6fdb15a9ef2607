"""A circuit breaker for a service the site can live without for a while (Redis as cache or
broker): after a failure, callers skip the service for a few seconds instead of each paying a
connection timeout, and the outage is logged once, not once per request."""

from __future__ import annotations

import logging
import threading
import time

logger = logging.getLogger(__name__)


class CircuitBreaker:
    """Shared by every thread of a process. `is_open` is true for `retry_after` seconds after a
    failure; the first call after that tries the service again."""

    def __init__(self, name: str, *, retry_after: float) -> None:
        self.name = name
        self.retry_after = retry_after
        self._lock = threading.Lock()
        self._open_until = 0.0
        self._down_since: float | None = None
        self.last_error = ""

    @property
    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    @property
    def down_for_seconds(self) -> float | None:
        """Seconds since the outage began, or None when the last call worked."""
        with self._lock:
            down_since = self._down_since
        return None if down_since is None else time.monotonic() - down_since

    def failed(self, error: BaseException) -> None:
        with self._lock:
            now = time.monotonic()
            first = self._down_since is None
            if first:
                self._down_since = now
            self._open_until = now + self.retry_after
            self.last_error = f"{type(error).__name__}: {error}"[:300]
        if first:
            logger.warning(
                "%s is unreachable (%s); working without it, trying again every %ss",
                self.name,
                self.last_error,
                self.retry_after,
            )

    def succeeded(self) -> None:
        if self._down_since is None:  # the usual case: no lock taken
            return
        with self._lock:
            down_since, self._down_since = self._down_since, None
            self._open_until = 0.0
            self.last_error = ""
        if down_since is not None:
            logger.warning("%s answers again after %.0fs", self.name, time.monotonic() - down_since)

    def reset(self) -> None:
        with self._lock:
            self._open_until = 0.0
            self._down_since = None
            self.last_error = ""
