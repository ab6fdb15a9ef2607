"""The reminder sweep at scale: how long, how many queries, and whether two at once remind once.

    python bench/reminders.py [--relationships 100000]

Builds an organisation of active relationships (mentors with two mentees each, people in time
zones from UTC+14 to UTC-12, check-ins of every age, goals due soon and long overdue, agreements
mostly signed, a midpoint survey open in some cohorts) in a database of its own: on PostgreSQL
(DATABASE_URL) a dedicated `<name>_bench` database, created if missing and flushed, never the
developer's data; otherwise a temporary SQLite file. Then:

  1. sweeps a tenth of the organisation, for the query count at that size;
  2. sweeps the whole organisation once (the timed "first sweep");
  3. a week later, sweeps it twice at the same time, in two processes with their own database
     connections (one after the other on SQLite, which does not take concurrent writers), so
     the two race for every reminder newly due.

"lost" counts reminders the pure rules (notifications.rules.reminders_due over the loader's
facts) find due at either moment with no notification recorded; "duplicates" counts reminders
recorded (or emails queued) more than once. Emails are queued to an in-memory broker, not sent:
the sweep's job ends at the queue. Each figure is printed beside a reference measured in the same
run, since shared machines vary twofold. The last line is machine-readable:
RESULT reminder_sweep relationships=<n> seconds=<s> queries=<n> duplicates=<n> lost=<n>
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.database import bench_database

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mentorship.settings.test")


DATABASE = bench_database(
    prefix="reminders-bench-",
    sqlite_caveat="DATABASE_URL is not PostgreSQL; concurrency is not tested",
)
# The sweep enqueues urgent emails; an in-memory broker takes them without a worker.
os.environ["CELERY_BROKER_URL"] = "memory://"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, models  # noqa: E402
from django.db.models import DateTimeField  # noqa: E402

from accounts.models import User  # noqa: E402
from goals.models import Agreement, AgreementSignature, CheckIn, Goal, Pulse, SurveyResponse  # noqa: E402
from goals.reminder_sweep import (  # noqa: E402
    SweepPart,
    SweepResult,
    reminder_sweep,
    reminder_sweep_parts,
)
from goals.reminders import (  # noqa: E402
    BATCH_SIZE,
    invitation_batches,
    relationship_batches,
    request_batches,
)
from matching.models import Relationship, RelationshipMember  # noqa: E402
from mentorship.celery import app  # noqa: E402
from notifications.models import Notification, OutboundEmail  # noqa: E402
from notifications.rules import reminders_due  # noqa: E402
from notifications.services import notification_key  # noqa: E402
from programs.models import Cohort, Enrolment, Program  # noqa: E402

app.conf.task_always_eager = False

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)  # a Monday; fixed, so runs compare
LATER = NOW + dt.timedelta(days=7)  # the concurrent pair's moment: many reminders newly due
ZONES = [
    ("Pacific/Kiritimati", 1),  # UTC+14: its "today" is already tomorrow
    ("Etc/GMT+12", 1),  # UTC-12
    ("Europe/London", 4),
    ("America/New_York", 3),
    ("Asia/Kolkata", 3),
    ("America/Los_Angeles", 2),
    ("Australia/Sydney", 1),
    ("UTC", 1),
]
PROGRAMS, COHORTS_PER_PROGRAM, COORDINATORS_PER_PROGRAM = 4, 3, 2
# Days before NOW each program's cohorts started; they run 26 weeks, so the oldest is past
# its midpoint (survey open) and the youngest not three weeks old.
COHORT_AGES = (18, 60, 110)
CHUNK = 5_000  # relationships built per round of bulk inserts
TARGET_SECONDS = 30.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--relationships", type=int, default=100_000)
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="processes taking the sweep's parts (a Celery worker's default concurrency: the CPUs)",
    )
    args = parser.parse_args()
    total: int = args.relationships
    small = max(total // 10, 2)

    print(f"database          {DATABASE}")
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    print(f"migrate + flush   {time.perf_counter() - started:.1f} s")

    builder = Builder(seed=1)
    started = time.perf_counter()
    builder.build(small)
    print(f"build {small:>7,}     {time.perf_counter() - started:.1f} s")
    small_sweep = timed_sweep(NOW)
    Notification.objects.all().delete()
    OutboundEmail.objects.all().delete()

    started = time.perf_counter()
    builder.build(total - small)
    build_seconds = time.perf_counter() - started
    print(
        f"build {total:>7,}     {build_seconds + 0:.1f} s more: {User.objects.count():,} people, "
        f"{RelationshipMember.objects.count():,} members, {CheckIn.objects.count():,} check-ins, "
        f"{Goal.objects.count():,} goals, {AgreementSignature.objects.count():,} signatures"
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

    count_seconds = bare_count_seconds()
    load = timed_load(NOW)
    first = timed_sweep_in_parts(NOW, args.workers)
    recorded_first = Notification.objects.count()

    later_due = timed_load(LATER)
    pair_started = time.perf_counter()
    pair = concurrent_sweeps(LATER)
    pair_seconds = time.perf_counter() - pair_started
    concurrent = connection.vendor == "postgresql"

    recorded = set(Notification.objects.values_list("key", flat=True))
    expected = load.keys | later_due.keys
    notified = first.result.notified + sum(r.notified for r in pair)
    emails_unlinked = OutboundEmail.objects.filter(notification__isnull=True).count()
    duplicates = max(notified - len(recorded), 0) + emails_unlinked
    lost = len(expected - recorded)
    unexpected = len(recorded - expected)
    failed = len(first.result.failed) + sum(len(r.failed) for r in pair)

    print()
    print(f"reference         SELECT count(*) over relationships: {count_seconds * 1000:.0f} ms")
    print(
        f"reference         loader + rules alone (read and judge, no writes): "
        f"{load.seconds:.2f} s, {load.queries:,} queries, {len(load.keys):,} reminders due"
    )
    batches = -(-total // BATCH_SIZE)
    print(
        f"first sweep       {first.seconds:.2f} s = {first.seconds / load.seconds:.1f} x the "
        f"loader, {first.seconds / count_seconds:,.0f} x the count(*); "
        f"{first.result.notified:,} recorded, {first.result.already:,} already, {failed} failed"
    )
    print(
        f"                  in {first.parts} parts over {args.workers} worker processes; the "
        f"parts' own times sum to {first.work:.2f} s (the sweep in one process, about), "
        f"{first.work / first.seconds:.2f} x the wall time"
    )
    print(
        f"queries           {first.queries:,} = {first.queries / load.queries:.2f} x the loader's;"
        f" {first.queries / batches:.1f} per batch of {BATCH_SIZE}, "
        f"{first.queries / max(first.result.due, 1):.2f} per reminder"
    )
    how = "two processes at once" if concurrent else "one after the other"
    print(
        f"concurrent pair   {pair_seconds:.2f} s at {LATER:%Y-%m-%d} ({how}): recorded "
        f"{' + '.join(f'{r.notified:,}' for r in pair)}, "
        f"already {' + '.join(f'{r.already:,}' for r in pair)}; "
        f"{len(later_due.keys - load.keys):,} newly due"
    )
    print(
        f"notifications     {len(recorded):,} recorded ({recorded_first:,} by the first sweep), "
        f"{len(expected):,} due by the rules, {unexpected} not due by the rules"
    )
    print(
        f"targets           seconds {first.seconds:.2f} <= {TARGET_SECONDS:.0f} "
        f"{'ok' if first.seconds <= TARGET_SECONDS else 'MISSED'}; duplicates {duplicates}, "
        f"lost {lost} {'ok' if duplicates == lost == 0 else 'MISSED'}"
    )
    print(
        f"queries at {small:,} relationships: {small_sweep.queries:,} "
        f"({small_sweep.seconds:.2f} s, {small_sweep.result.due:,} due); at {total:,}: "
        f"{first.queries:,} ({first.queries / max(small_sweep.queries, 1):.1f} x for "
        f"{total / small:.0f} x the relationships)"
    )
    print(
        f"RESULT reminder_sweep relationships={total} seconds={first.seconds:.2f} "
        f"queries={first.queries} duplicates={duplicates} lost={lost}"
    )


# --- The organisation ----------------------------------------------------------------------------


class Builder:
    """Bulk-inserts relationships in rounds of CHUNK, each with its people, members, agreement,
    signatures, check-ins, pulses, goals and survey answers."""

    def __init__(self, *, seed: int) -> None:
        self.rng = random.Random(seed)
        self.built = 0
        self.cohorts: list[Cohort] = []
        zones, weights = zip(*ZONES, strict=True)
        self.zones: list[str] = list(zones)
        self.zone_weights: list[int] = list(weights)

    def _programs(self) -> None:
        today = NOW.date()
        for p in range(PROGRAMS):
            program = Program.objects.create(name=f"Bench program {p}")
            coordinators = User.objects.bulk_create(
                User(
                    email=f"coordinator{p}.{c}@bench.example.org",
                    display_name=f"Coordinator {p}.{c}",
                    time_zone=self.zones[(p + c) % len(self.zones)],
                    password="!",  # noqa: S106 (unusable: nobody signs in)
                )
                for c in range(COORDINATORS_PER_PROGRAM)
            )
            program.coordinators.set(coordinators)
            for age in COHORT_AGES:
                starts_on = today - dt.timedelta(days=age)
                self.cohorts.append(
                    Cohort.objects.create(
                        program=program,
                        name=f"Started {starts_on}",
                        status=Cohort.Status.ACTIVE,
                        starts_on=starts_on,
                        ends_on=starts_on + dt.timedelta(weeks=26),
                    )
                )

    def build(self, count: int) -> None:
        if not self.cohorts:
            self._programs()
        count -= count % 2  # a mentor takes two mentees
        for start in range(0, count, CHUNK):
            self._chunk(min(CHUNK, count - start))

    def _zone(self) -> str:
        return self.rng.choices(self.zones, self.zone_weights)[0]

    def _chunk(self, size: int) -> None:
        rng = self.rng
        first = self.built
        self.built += size
        indices = range(first, first + size)
        cohorts = {i: self.cohorts[(i // 2) % len(self.cohorts)] for i in indices}

        users = User.objects.bulk_create(
            [
                User(
                    email=f"{'mentor' if role == 'mentor' else 'mentee'}{i}@bench.example.org",
                    display_name=f"{role.title()} {i}",
                    time_zone=self._zone(),
                    password="!",  # noqa: S106 (unusable: nobody signs in)
                )
                for i in indices
                for role in (("mentor", "mentee") if i % 2 == 0 else ("mentee",))
            ],
            batch_size=2000,
        )
        enrolments = Enrolment.objects.bulk_create(
            [
                Enrolment(
                    cohort=cohorts[first + 2 * (n // 3)],
                    user=user,
                    role=Enrolment.Role.MENTOR
                    if user.email.startswith("mentor")
                    else Enrolment.Role.MENTEE,
                    status=Enrolment.Status.APPROVED,
                    capacity=2 if user.email.startswith("mentor") else None,
                )
                for n, user in enumerate(users)
            ],
            batch_size=2000,
        )
        # Users came in threes per pair of relationships: mentor, mentee (even), mentee (odd).
        mentor_of: dict[int, Enrolment] = {}
        mentee_of: dict[int, Enrolment] = {}
        for n, enrolment in enumerate(enrolments):
            i = first + 2 * (n // 3)
            if n % 3 == 0:
                mentor_of[i] = mentor_of[i + 1] = enrolment
            else:
                mentee_of[i + (n % 3) - 1] = enrolment

        started = {
            i: dt.datetime.combine(
                cohorts[i].starts_on + dt.timedelta(days=rng.randint(0, 10)),
                dt.time(rng.randint(6, 20)),
                tzinfo=dt.UTC,
            )
            for i in indices
        }
        relationships = Relationship.objects.bulk_create(
            [Relationship(cohort=cohorts[i], started_at=min(started[i], NOW)) for i in indices],
            batch_size=2000,
        )
        by_index = dict(zip(indices, relationships, strict=True))
        members = RelationshipMember.objects.bulk_create(
            [
                RelationshipMember(relationship=by_index[i], enrolment=enrolment, role=role)
                for i in indices
                for role, enrolment in (("mentor", mentor_of[i]), ("mentee", mentee_of[i]))
            ],
            batch_size=2000,
        )
        pair = {i: (members[2 * n], members[2 * n + 1]) for n, i in enumerate(indices)}

        cadence = {i: rng.choice((7, 14, 14, 14, 30)) for i in indices}
        agreements = Agreement.objects.bulk_create(
            [
                Agreement(
                    relationship=by_index[i],
                    text="We meet regularly and keep what we share confidential.",
                    meeting_cadence_days=cadence[i],
                    version=1 if rng.random() < 0.9 else 2,
                )
                for i in indices
                if rng.random() < 0.98
            ],
            batch_size=2000,
        )
        index_of = {r.pk: i for i, r in by_index.items()}
        AgreementSignature.objects.bulk_create(
            [
                AgreementSignature(agreement=agreement, member=member, version=agreement.version)
                for agreement in agreements
                for member in pair[index_of[agreement.relationship_id]]
                if rng.random() < 0.95
            ],
            batch_size=2000,
        )

        check_ins: list[CheckIn] = []
        for i in indices:
            start = started[i].date()
            roll = rng.random()
            if roll < 0.05:
                continue  # never met
            if roll < 0.65:
                gap = rng.randint(0, cadence[i] - 1)  # met within the cadence
            elif roll < 0.9:
                gap = rng.randint(cadence[i], cadence[i] + 7)  # due, or just overdue
            else:
                gap = rng.randint(cadence[i] + 8, 60)  # lapsed
            last = NOW.date() - dt.timedelta(days=gap)
            booked = rng.random() < 0.4
            for back in range(rng.randint(1, 3)):
                met_on = last - dt.timedelta(days=back * cadence[i])
                if met_on < start:
                    break
                logger, other = pair[i] if rng.random() < 0.5 else pair[i][::-1]
                logged_at = dt.datetime.combine(met_on, dt.time(18), tzinfo=dt.UTC)
                confirmed = back > 0 or rng.random() < 0.85
                check_ins.append(
                    CheckIn(
                        relationship=by_index[i],
                        logged_by=logger,
                        met_on=met_on,
                        duration_minutes=45,
                        summary="Talked through the quarter's priorities.",
                        next_meeting_at=NOW + dt.timedelta(days=rng.randint(1, 14), hours=3)
                        if back == 0 and booked
                        else None,
                        confirmed_by=other if confirmed else None,
                        confirmed_at=logged_at + dt.timedelta(hours=20) if confirmed else None,
                        created_at=min(logged_at, NOW),
                    )
                )
        with explicit_timestamp(CheckIn, "created_at"):
            check_ins = CheckIn.objects.bulk_create(check_ins, batch_size=2000)
        Pulse.objects.bulk_create(
            [
                Pulse(check_in=check_in, author=author, usefulness=rng.choice((2, 3, 4, 4, 5, 5)))
                for check_in in check_ins
                for author in pair[index_of[check_in.relationship_id]]
                if rng.random() < (0.6 if author.pk == check_in.logged_by_id else 0.85)
            ],
            batch_size=2000,
        )

        goals: list[Goal] = []
        for i in indices:
            for _ in range(rng.choices((0, 1, 2), (1, 5, 4))[0]):
                status = rng.choices(
                    ("on_track", "not_started", "at_risk", "done", "dropped"), (50, 20, 10, 15, 5)
                )[0]
                goals.append(
                    Goal(
                        relationship=by_index[i],
                        owner=pair[i][1] if rng.random() < 0.8 else pair[i][0],
                        title="Lead a cross-team project",
                        measure="A project shipped with two other teams",
                        target_date=NOW.date() + dt.timedelta(days=rng.randint(-15, 120)),
                        status=status,
                        progress=100 if status == "done" else rng.randint(0, 90),
                    )
                )
        Goal.objects.bulk_create(goals, batch_size=2000)

        midpoint_open = {
            c.pk for c in self.cohorts if NOW.date() >= c.starts_on + (c.ends_on - c.starts_on) / 2
        }
        SurveyResponse.objects.bulk_create(
            [
                SurveyResponse(relationship=by_index[i], author=member, stage="midpoint")
                for i in indices
                if cohorts[i].pk in midpoint_open
                for member in pair[i]
                if rng.random() < 0.75
            ],
            batch_size=2000,
        )


@contextmanager
def explicit_timestamp(model: type[models.Model], name: str) -> Iterator[None]:
    """Let bulk_create keep the given values of an auto_now_add field (a meeting logged weeks
    ago must look so to the rules)."""
    field = model._meta.get_field(name)
    assert isinstance(field, DateTimeField)
    field.auto_now_add = False
    try:
        yield
    finally:
        field.auto_now_add = True


# --- Measuring -----------------------------------------------------------------------------------


class Timed:
    def __init__(self, seconds: float, queries: int) -> None:
        self.seconds = seconds
        self.queries = queries


class TimedSweep(Timed):
    def __init__(self, seconds: float, queries: int, result: SweepResult) -> None:
        super().__init__(seconds, queries)
        self.result = result


class TimedLoad(Timed):
    def __init__(self, seconds: float, queries: int, keys: set[str]) -> None:
        super().__init__(seconds, queries)
        self.keys = keys


@contextmanager
def query_counter() -> Iterator[list[int]]:
    """Counts the SQL statements this connection runs (cheaper than capturing their text)."""
    counted = [0]

    def count(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        counted[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield counted


def timed_sweep(now: dt.datetime) -> TimedSweep:
    with query_counter() as counted:
        started = time.perf_counter()
        result = reminder_sweep(now=now)
        seconds = time.perf_counter() - started
    return TimedSweep(seconds, counted[0], result)


class TimedParts(TimedSweep):
    def __init__(self, seconds: float, queries: int, result: SweepResult, parts: int, work: float):
        super().__init__(seconds, queries, result)
        self.parts = parts
        self.work = work  # the parts' own times, summed: the sweep in one process


def _part_in_child(
    now: dt.datetime, part: SweepPart
) -> tuple[int, int, int, list[str], int, float]:
    with query_counter() as counted:
        started = time.perf_counter()
        result = reminder_sweep(now=now, part=part)
        seconds = time.perf_counter() - started
    connections.close_all()
    return result.due, result.notified, result.already, result.failed, counted[0], seconds


def timed_sweep_in_parts(now: dt.datetime, workers: int) -> TimedParts:
    """The sweep as goals.tasks.reminder_sweep_task runs it: cut into parts, which `workers`
    processes take side by side, as a Celery worker's prefork pool of that concurrency does.
    On SQLite, which takes one writer, the parts run one after the other here."""
    started = time.perf_counter()
    with query_counter() as counted:
        parts = reminder_sweep_parts(now=now)
    if connection.vendor == "postgresql":
        connections.close_all()  # each forked process opens its own connection
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            outcomes = pool.starmap(_part_in_child, [(now, part) for part in parts])
    else:
        outcomes = [_part_in_child(now, part) for part in parts]
    seconds = time.perf_counter() - started
    result = SweepResult()
    for due, notified, already, failed, _, _ in outcomes:
        result.due += due
        result.notified += notified
        result.already += already
        result.failed += failed
    queries = counted[0] + sum(outcome[4] for outcome in outcomes)
    return TimedParts(seconds, queries, result, len(parts), sum(o[5] for o in outcomes))


def timed_load(now: dt.datetime) -> TimedLoad:
    """What the sweep reads and judges, without recording: the reference for its time, and the
    keys every due reminder must have been recorded under."""
    keys: set[str] = set()
    with query_counter() as counted:
        started = time.perf_counter()
        for batches in (
            relationship_batches(now=now),
            request_batches(),
            invitation_batches(now=now),
        ):
            for batch in batches:
                for reminder in reminders_due(batch.snapshot, now, batch.thresholds):
                    recipient: User | str = (
                        batch.users[reminder.recipient_id]
                        if reminder.recipient_id is not None
                        else reminder.email
                    )
                    keys.add(
                        notification_key(
                            kind=reminder.kind,
                            recipient=recipient,
                            about=reminder.about,
                            period=reminder.period,
                        )
                    )
        seconds = time.perf_counter() - started
    return TimedLoad(seconds, counted[0], keys)


def bare_count_seconds() -> float:
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(f"SELECT count(*) FROM {Relationship._meta.db_table}")  # noqa: S608
        cursor.fetchone()
        return time.perf_counter() - started


def _sweep_in_child(now: dt.datetime, barrier: Any, results: Any) -> None:
    connections.close_all()  # never share the parent's socket
    barrier.wait()
    result = reminder_sweep(now=now)
    results.put((result.notified, result.already, result.failed))
    connections.close_all()


def concurrent_sweeps(now: dt.datetime) -> list[SweepResult]:
    if connection.vendor != "postgresql":
        return [reminder_sweep(now=now), reminder_sweep(now=now)]
    connections.close_all()  # a forked child must open its own connection
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(2)
    results = context.Queue()
    processes = [
        context.Process(target=_sweep_in_child, args=(now, barrier, results)) for _ in range(2)
    ]
    for process in processes:
        process.start()
    collected = [results.get() for _ in processes]
    for process in processes:
        process.join()
        if process.exitcode:
            raise SystemExit(f"a concurrent sweep exited with {process.exitcode}")
    return [SweepResult(notified=n, already=a, failed=f) for n, a, f in collected]


if __name__ == "__main__":
    main()
