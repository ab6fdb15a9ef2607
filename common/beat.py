"""django-celery-beat's database scheduler, sending only while it holds the beat lock.

`CELERY_BEAT_SCHEDULER` names this class. Any number of beats may be started: the one that holds
the lock (common/beat_lock.py) sends the periodic tasks; the others send nothing, try the lock on
every tick (every 5 s) and take over within seconds of the holder stopping, crashing or losing its
database connection. A holder that finds it has lost the lock stops sending at once.
"""

from __future__ import annotations

import logging
from typing import Any

from django_celery_beat.schedulers import DatabaseScheduler

from .beat_lock import BeatLock, beat_lock_for_database

logger = logging.getLogger(__name__)


class GuardedDatabaseScheduler(DatabaseScheduler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._beat_lock: BeatLock | None = None
        self._holding = False
        self._said_waiting = False
        super().__init__(*args, **kwargs)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if self._holding and not self._lock().is_held():
            logger.error("beat lock: lost it; sending nothing until it is ours again")
            self._holding = False
        if not self._holding:
            if not self._take_lock():
                # Try again at the scheduler's own pace (django-celery-beat's: every 5 s).
                return float(self.max_interval)
            # Another beat may have sent tasks since this one read the schedule: start from the
            # last run times it saved, not from our stale copy.
            self._schedule = self.all_as_schedule()
            self._heap = None
        return super().tick(*args, **kwargs)

    def close(self) -> None:
        # Save our last run times first, so the beat that takes over starts from them.
        super().close()
        if self._beat_lock is not None:
            self._beat_lock.release()
            self._holding = False

    def _lock(self) -> BeatLock:
        if self._beat_lock is None:
            self._beat_lock = beat_lock_for_database()
        return self._beat_lock

    def _take_lock(self) -> bool:
        try:
            taken = self._lock().try_acquire()
        except Exception:  # the database is unreachable: try again on the next tick
            logger.warning("beat lock: cannot reach the database to take it", exc_info=True)
            return False
        if taken:
            logger.info("beat lock: taken; this beat sends the periodic tasks")
            self._holding = True
            self._said_waiting = False
        elif not self._said_waiting:
            logger.info(
                "beat lock: another beat holds it; this one waits and takes over when it stops"
            )
            self._said_waiting = True
        return taken
