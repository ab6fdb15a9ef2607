"""The lock that lets only one Celery beat send the periodic tasks.

Two beats against one schedule send every periodic task twice. Rather than hope a deployment
never starts a second one (a rolling deploy, `docker compose up --scale`, a forgotten host), the
beat holds a lock in the database the schedule lives in; another beat waits until it is free.

- PostgreSQL: a session advisory lock on a connection of the beat's own (not Django's, which
  Django may close and reopen at any time). The server releases it the moment that connection
  ends, so a beat that crashes or is killed hands over at once. The connection's
  `idle_session_timeout` and TCP keepalives make the server drop it, and so free the lock, when
  the beat's host vanishes or its process hangs and stops checking in.
- SQLite (one machine by definition): an exclusive `flock` on a file beside the database, which
  the kernel releases when the process ends.
"""

from __future__ import annotations

import fcntl
import logging
import os
import zlib
from pathlib import Path
from typing import IO, Any, Protocol

import psycopg
from django.db import connections

logger = logging.getLogger(__name__)

LOCK_NAME = "mentorship:celery-beat"
# The lock's number in PostgreSQL's advisory lock space (which is per database).
ADVISORY_KEY = zlib.crc32(LOCK_NAME.encode())
# A holder that has not spoken for this long is presumed dead and its lock released by the server.
# The beat checks in on every scheduler tick (at most every 5 s).
IDLE_TIMEOUT_SECONDS = 60


class BeatLock(Protocol):
    def try_acquire(self) -> bool:
        """Take the lock if it is free; True when this process holds it."""
        ...

    def is_held(self) -> bool:
        """Still ours? False when the connection or file behind it was lost."""
        ...

    def release(self) -> None: ...


class PostgresBeatLock:
    def __init__(self, *, alias: str = "default", key: int = ADVISORY_KEY) -> None:
        self.alias = alias
        self.key = key
        self._connection: Any = None
        self._acquired = False

    def _connect(self) -> Any:
        wrapper = connections[self.alias]
        params = wrapper.get_connection_params()
        # Notice a dead server within a minute instead of the kernel's two hours.
        params.update(keepalives=1, keepalives_idle=20, keepalives_interval=5, keepalives_count=3)
        # Straight from the driver: never a pooled connection, never Django's own.
        raw = psycopg.connect(**params)
        raw.autocommit = True
        with raw.cursor() as cursor:
            # The server side of the same.
            cursor.execute(
                "SELECT set_config('tcp_keepalives_idle', '20', false),"
                " set_config('tcp_keepalives_interval', '5', false),"
                " set_config('tcp_keepalives_count', '3', false),"
                " set_config('application_name', 'mentorship celery beat', false)"
            )
            if raw.info.server_version >= 140000:  # PostgreSQL 14 added it
                # The server frees the lock of a beat that stops checking in (a hung process).
                cursor.execute(
                    "SELECT set_config('idle_session_timeout', %s, false)",
                    [f"{IDLE_TIMEOUT_SECONDS}s"],
                )
        return raw

    def try_acquire(self) -> bool:
        if self._connection is None or self._connection.closed:
            self._connection = self._connect()
        with self._connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [self.key])
            self._acquired = bool(cursor.fetchone()[0])
        return self._acquired

    def is_held(self) -> bool:
        if self._connection is None or self._connection.closed:
            return False
        try:
            with self._connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND pid = pg_backend_pid() AND database = ("
                    "   SELECT oid FROM pg_database WHERE datname = current_database())"
                    " AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = %s",
                    [self.key],
                )
                return bool(cursor.fetchone()[0])
        except Exception:  # any failure to ask means we can no longer prove we hold it
            logger.warning("beat lock: lost the database connection", exc_info=True)
            self._close()
            return False

    def release(self) -> None:
        # Unlock explicitly: the server frees a closed session's locks too, but only once its
        # backend has exited, a moment after close() returns.
        if self._acquired and self._connection is not None and not self._connection.closed:
            try:
                with self._connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [self.key])
            except Exception:  # the connection is gone, and the lock with it
                logger.debug("beat lock: unlocking over a broken connection", exc_info=True)
        self._close()

    def _close(self) -> None:
        self._acquired = False
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:  # already gone: nothing is held
                logger.debug("beat lock: closing a broken connection", exc_info=True)
            self._connection = None


class FileBeatLock:
    def __init__(self, *, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def try_acquire(self) -> bool:
        if self._file is None:
            self._file = open(self.path, "a+")  # noqa: SIM115 (held open for the lock's life)
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        self._file.seek(0)
        self._file.truncate()
        self._file.write(f"{os.getpid()}\n")
        self._file.flush()
        return True

    def is_held(self) -> bool:
        return self._file is not None and not self._file.closed

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the descriptor releases the flock
            self._file = None


def beat_lock_for_database(alias: str = "default") -> BeatLock:
    """The lock that fits the database the schedule is kept in."""
    wrapper = connections[alias]
    if wrapper.vendor == "postgresql":
        return PostgresBeatLock(alias=alias)
    name = str(wrapper.settings_dict["NAME"])
    if wrapper.vendor == "sqlite" and name and ":memory:" not in name and "mode=memory" not in name:
        return FileBeatLock(path=Path(f"{name}.beat.lock"))
    raise NotImplementedError(f"no beat lock for a {wrapper.vendor} database ({name or 'unnamed'})")
