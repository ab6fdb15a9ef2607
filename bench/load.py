"""The whole site under load, served as in production: pages one at a time, many people at
once, and publishing a 1,000-pair matching run through the web.

    python bench/load.py [--users 50] [--seconds 180] [--think 1.0] [--quick]

Builds an organisation in a database of its own: on PostgreSQL (DATABASE_URL) a dedicated
`<name>_bench` database, created if missing and flushed, never the developer's data; otherwise a
temporary SQLite file (said so; SQLite takes one writer at a time, so its figures under load
mean little). The organisation: a cohort of 2,000 mentees and 500 mentors, 90 days into its 26
weeks, with 1,000 active relationships and their history (agreements and signatures, check-ins
every one to four weeks with pulses, comments and private notes, goals with milestones and
changes, notifications and the emails that carried them); and a second cohort in matching state
whose finished run proposes 1,000 pairs, all accepted, ready to publish. Everything is
bulk-inserted.

Then it serves that database as production does: `mentorship.settings.production` (DEBUG off,
static files collected and served by whitenoise, Redis as broker and cache), gunicorn with the
project's `gunicorn.conf.py` (3 sync workers when there is none), a Celery worker and beat, all
on 127.0.0.1 with a Redis database of the bench's own (LOAD_BENCH_REDIS_URL, default
redis://127.0.0.1:6379/12, flushed before and after). People are signed in by sessions written
to the database. In one run:

  (a) each main page, one request at a time: the median of 15 beside the login page's median
      (the reference measured on the same server in the same minutes, since shared machines
      vary twofold), and their ratio;
  (b) 50 signed-in people for 3 minutes, 0.5-1.5 s between clicks (--think: a stress mix, busier
      than people at work): participants reading their home, relationship, check-in form and
      notifications and now and then logging a check-in (a form POST with its CSRF token),
      coordinators browsing their cohort, relationships and run; /healthz polled every 0.5 s
      from another thread. Errors are 5xx answers and failed requests;
  (c) the coordinator publishes the run through the web (the run page's own publish form),
      then the database is polled until every relationship and every email exists.

The last line is machine-readable:
RESULT load users=<n> errors=<n> worst_page_ratio=<x> healthz_p95_ms=<ms> publish_request_ms=<ms>
publish_done_s=<s>
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import math
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import CookieError, SimpleCookie
from importlib import import_module
from pathlib import Path
from types import FrameType
from typing import IO, Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.database import bench_database  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


PORT = free_port()
BASE_URL = f"http://127.0.0.1:{PORT}"
REDIS_URL = os.environ.get("LOAD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")

# What a production deployment sets (docker-compose.yml's web, worker and beat): the bench
# process reads the same settings, so the sessions it writes are signed with the same key.
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "mentorship.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CSRF_TRUSTED_ORIGINS": BASE_URL,
        # Plain HTTP on 127.0.0.1, as compose serves it without a TLS proxy in front.
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "SITE_URL": BASE_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "CACHE_URL": REDIS_URL,
        "EMAIL_URL": "consolemail://",
        "LOG_FORMAT": "text",
    }
)


DATABASE = bench_database(
    prefix="load-bench-",
    sqlite_caveat="DATABASE_URL is not PostgreSQL: one writer at a time, so the figures under "
    "load are not production's",
)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.core.exceptions import FieldError  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, models  # noqa: E402
from django.db.models import DateTimeField  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Profile, User  # noqa: E402
from bench.cohort_synthetic import DEPARTMENTS  # noqa: E402
from goals.models import (  # noqa: E402
    Agreement,
    AgreementSignature,
    CheckIn,
    CheckInComment,
    Goal,
    GoalChange,
    Milestone,
    PrivateNote,
    Pulse,
)
from matching.engine import Weights  # noqa: E402
from matching.models import (  # noqa: E402
    MatchRun,
    Proposal,
    Relationship,
    RelationshipMember,
    UnmatchedResult,
)
from notifications.models import Notification, OutboundEmail  # noqa: E402
from programs.models import Cohort, Enrolment, Program  # noqa: E402

# --- Sizes and targets ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    mentees: int
    mentors: int  # two mentees each, in both cohorts
    relationships: int  # active, in the first cohort
    proposals: int  # accepted, in the second cohort's run
    unmatched: int  # second-cohort mentees the run left without a mentor
    seconds: float
    users: int
    # For other benches that build on this organisation (bench/dashboard.py): how much history
    # the active cohort has, how long it runs, and whether its members get sessions too.
    history_days: int = 90  # HISTORY_DAYS
    cohort_weeks: int = 26  # COHORT_WEEKS
    member_sessions: bool = True


FULL = Sizes(
    mentees=2000,
    mentors=500,
    relationships=1000,
    proposals=1000,
    unmatched=100,
    seconds=180,
    users=50,
)
QUICK = Sizes(
    mentees=200,
    mentors=50,
    relationships=100,
    proposals=100,
    unmatched=10,
    seconds=20,
    users=10,
)
HISTORY_DAYS = 90  # the active cohort's history, unless Sizes says otherwise
COHORT_WEEKS = 26
SAMPLES = 15  # single requests per page in (a)
WARM_UP_ROUNDS = 5  # every page this many times first: each gunicorn worker loads its templates
HEALTHZ_EVERY = 0.5
REQUEST_TIMEOUT = 60.0
COORDINATOR_SHARE = 0.1  # of the simulated people

TARGET_ERRORS = 0
TARGET_RATIO = 4.0
TARGET_HEALTHZ_P95_MS = 1000.0
TARGET_PUBLISH_REQUEST_MS = 1000.0

FIRST_NAMES = (
    "Amara Ben Chloé Dev Elena Femi Grace Hiro Ines Jonas Kavya Liam Mei Noah Olga Priya Quinn "
    "Rafael Sofia Tariq Uma Viktor Wen Ximena Yusuf Zara Aoife Bilal Carmen Dmitri"
).split()
LAST_NAMES = (
    "Okafor Smith Dubois Patel García Adeyemi Kim Tanaka Silva Müller Rao O'Brien Chen Cohen "
    "Ivanova Nair Hughes Costa Rossi Haddad Nowak Larsen Mensah Fischer"
).split()
ZONES = (
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Australia/Sydney",
    "UTC",
)
GOAL_TITLES = (
    "Lead a cross-team project",
    "Present at the quarterly all-hands",
    "Move into a team-lead role",
    "Get better at giving feedback",
    "Learn the basics of financial modelling",
    "Build a network outside my department",
)
SUMMARIES = (
    "Talked through the quarter's priorities and how to say no to the rest.",
    "Went over the draft presentation; two sections to cut, one story to add.",
    "Discussed the reorganisation and where the new role might fit.",
    "Reviewed progress on the goals; the project is behind, agreed on a smaller first step.",
    "Practised a difficult conversation with a stakeholder.",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and 20 s, to develop")
    parser.add_argument("--users", type=int, help="people at once in (b) (default 50; quick 10)")
    parser.add_argument("--seconds", type=float, help="length of (b) (default 180; quick 20)")
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean seconds a person waits between clicks"
    )
    args = parser.parse_args()
    base = QUICK if args.quick else FULL
    sizes = Sizes(
        **{
            **vars(base),
            "users": args.users or base.users,
            "seconds": args.seconds or base.seconds,
        }
    )
    logs = Path(tempfile.mkdtemp(prefix="load-bench-logs-"))
    stack = Stack(logs)

    def stop_on_term(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop_on_term)
    if not redis_flush():
        raise SystemExit(
            f"Redis does not answer at {REDIS_URL}: the worker needs it as its broker. Start it "
            "(redis-server), or point LOAD_BENCH_REDIS_URL at a Redis database of the bench's own."
        )
    try:
        run(sizes, args.think, stack, logs)
    finally:
        stack.stop()
        redis_flush()


def run(sizes: Sizes, think: float, stack: Stack, logs: Path) -> None:
    print(f"database          {DATABASE}")
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("sync_periodic_tasks", stdout=quiet)
    print(f"migrate + flush   {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    with open(os.devnull, "w") as quiet:
        call_command("collectstatic", interactive=False, verbosity=0, stdout=quiet)
    print(f"collectstatic     {time.perf_counter() - started:.1f} s into {settings.STATIC_ROOT}")

    started = time.perf_counter()
    world = Builder(sizes, seed=1).build()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    print(f"build             {time.perf_counter() - started:.1f} s: {world.summary}")
    connection.close()  # the servers are about to take the connections

    stack.start_all()
    print(f"server            {stack.describe()}")
    print(f"logs              {logs}")

    errors = Errors()
    ratios = single_requests(world, errors)
    load = under_load(world, sizes, think, errors)
    publish = publish_run(world, errors)
    stack.report_problems()

    worst_label, worst_ratio = max(ratios.items(), key=lambda item: item[1])
    healthz_p95 = load.healthz_p95_ms
    print()
    print(
        "targets           "
        + "; ".join(
            [
                f"errors {errors.count} = {TARGET_ERRORS} {ok(errors.count <= TARGET_ERRORS)}",
                f"worst_page_ratio {worst_ratio:.2f} <= {TARGET_RATIO:g} ({worst_label}) "
                f"{ok(worst_ratio <= TARGET_RATIO)}",
                f"healthz_p95_ms {healthz_p95:.0f} <= {TARGET_HEALTHZ_P95_MS:.0f} "
                f"{ok(healthz_p95 <= TARGET_HEALTHZ_P95_MS)}",
                f"publish_request_ms {publish.request_ms:.0f} <= {TARGET_PUBLISH_REQUEST_MS:.0f} "
                f"{ok(publish.request_ms <= TARGET_PUBLISH_REQUEST_MS)}",
            ]
        )
    )
    print(
        f"RESULT load users={sizes.users} errors={errors.count} worst_page_ratio={worst_ratio:.2f} "
        f"healthz_p95_ms={healthz_p95:.0f} publish_request_ms={publish.request_ms:.0f} "
        f"publish_done_s={publish.done_s:.1f}"
    )


def ok(met: bool) -> str:
    return "ok" if met else "MISSED"


# --- The organisation ----------------------------------------------------------------------------


@dataclass
class World:
    program_id: int
    cohort_id: int  # active, with the relationships
    matching_cohort_id: int
    run_id: int
    accepted: int
    coordinator_ids: list[int]
    # Everyone in a relationship of the active cohort: user id -> their relationship ids.
    members: dict[int, list[int]]
    sample_mentee_id: int  # the participant whose pages (a) times
    sample_mentor_id: int
    sample_relationship_id: int
    publish_user_ids: list[int]  # the people the run's pairs will email
    relationship_pages: int
    run_pages: int
    summary: str = ""
    sessions: dict[int, str] = field(default_factory=dict)  # user id -> session key


@contextmanager
def explicit_timestamps(*fields: tuple[type[models.Model], str]) -> Iterator[None]:
    """Let bulk_create keep given values of auto_now_add fields: 90 days of history must look
    90 days old to the pages (what is recent, what is overdue)."""
    changed = []
    for model, name in fields:
        found = model._meta.get_field(name)
        assert isinstance(found, DateTimeField)
        found.auto_now_add = False
        changed.append(found)
    try:
        yield
    finally:
        for found in changed:
            found.auto_now_add = True


class Builder:
    def __init__(self, sizes: Sizes, *, seed: int) -> None:
        self.sizes = sizes
        self.rng = random.Random(seed)
        self.now = timezone.now()
        self.today = self.now.date()
        self.counts: Counter[str] = Counter()

    def _name(self) -> str:
        return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"

    def _at(self, day: dt.date, hour: int) -> dt.datetime:
        moment = dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)
        return min(moment, self.now - dt.timedelta(minutes=5))

    def build(self) -> World:
        sizes, rng, today = self.sizes, self.rng, self.today
        coordinators_needed = max(2, math.ceil(sizes.users * COORDINATOR_SHARE))

        def person(kind: str, i: int) -> User:
            return User(
                email=f"{kind}{i}@load.bench.example.org",
                display_name=self._name(),
                time_zone=rng.choice(ZONES),
                password="!",  # noqa: S106 (unusable: sessions are written, nobody types one)
                date_joined=self.now - dt.timedelta(days=rng.randint(100, 900)),
            )

        coordinators = User.objects.bulk_create(
            person("coordinator", i) for i in range(coordinators_needed)
        )
        mentors = User.objects.bulk_create(
            (person("mentor", i) for i in range(sizes.mentors)), batch_size=2000
        )
        mentees = User.objects.bulk_create(
            (person("mentee", i) for i in range(sizes.mentees)), batch_size=2000
        )
        everyone = [*coordinators, *mentors, *mentees]
        mentor_ids = {user.pk for user in mentors}
        Profile.objects.bulk_create(
            (
                Profile(
                    user=user,
                    job_title="Senior engineer" if user.pk in mentor_ids else "Analyst",
                    department=rng.choice(DEPARTMENTS)[0],
                    job_level=rng.randint(4, 7) if user.pk in mentor_ids else rng.randint(1, 4),
                    location=user.time_zone.split("/")[-1],
                    languages=["English"],
                )
                for user in everyone
            ),
            batch_size=2000,
        )
        self.counts["people"] = len(everyone)

        program = Program.objects.create(
            name="Engineering mentoring", description="Mentoring for the whole company."
        )
        program.coordinators.set(coordinators)
        for n in range(3):  # a coordinator's list has more than one program in it
            other = Program.objects.create(name=f"Leadership circle {n + 1}")
            other.coordinators.set(coordinators[:1])
            Cohort.objects.create(
                program=other,
                name="2025",
                status=Cohort.Status.CLOSED,
                starts_on=today - dt.timedelta(days=400),
                ends_on=today - dt.timedelta(days=218),
            )
        starts_on = today - dt.timedelta(days=sizes.history_days)
        cohort = Cohort.objects.create(
            program=program,
            name=f"Spring {starts_on.year}",
            status=Cohort.Status.ACTIVE,
            starts_on=starts_on,
            ends_on=starts_on + dt.timedelta(weeks=sizes.cohort_weeks),
            enrolment_opens_on=starts_on - dt.timedelta(days=40),
            enrolment_closes_on=starts_on - dt.timedelta(days=14),
        )
        mentor_enrolments = Enrolment.objects.bulk_create(
            Enrolment(
                cohort=cohort,
                user=user,
                role=Enrolment.Role.MENTOR,
                status=Enrolment.Status.APPROVED,
                capacity=2,
                hopes="Help someone grow into a lead role.",
            )
            for user in mentors
        )
        mentee_enrolments = Enrolment.objects.bulk_create(
            (
                Enrolment(
                    cohort=cohort,
                    user=user,
                    role=Enrolment.Role.MENTEE,
                    status=Enrolment.Status.APPROVED,
                    development_goals="Lead a project across teams; speak up in big meetings.",
                )
                for user in mentees
            ),
            batch_size=2000,
        )
        members, sample = self._relationships(cohort, mentor_enrolments, mentee_enrolments)
        run, publish_users = self._matching(program, mentors, mentees, coordinators[0])
        sessions_for = [
            *coordinators,
            *(u for u in everyone if sizes.member_sessions and u.pk in members),
        ]
        world = World(
            program_id=program.pk,
            cohort_id=cohort.pk,
            matching_cohort_id=run.cohort_id,
            run_id=run.pk,
            accepted=sizes.proposals,
            coordinator_ids=[c.pk for c in coordinators],
            members=members,
            sample_mentee_id=sample.members.get(role="mentee").enrolment.user_id,
            sample_mentor_id=sample.members.get(role="mentor").enrolment.user_id,
            sample_relationship_id=sample.pk,
            publish_user_ids=publish_users,
            relationship_pages=max(1, math.ceil(self.counts["relationships"] / 50)),
            run_pages=max(1, math.ceil(sizes.proposals / 50)),
        )
        world.sessions = write_sessions(sessions_for)
        c = self.counts
        world.summary = (
            f"{c['people']:,} people, {c['relationships']:,} relationships, "
            f"{c['check-ins']:,} check-ins, {c['pulses']:,} pulses, {c['goals']:,} goals, "
            f"{c['notifications']:,} notifications; a run of {sizes.proposals:,} accepted pairs"
        )
        return world

    def _relationships(
        self, cohort: Cohort, mentors: list[Enrolment], mentees: list[Enrolment]
    ) -> tuple[dict[int, list[int]], Relationship]:
        rng, sizes, today = self.rng, self.sizes, self.today
        count = min(sizes.relationships, 2 * len(mentors), len(mentees))
        started = [
            self._at(cohort.starts_on + dt.timedelta(days=rng.randint(0, 7)), rng.randint(8, 17))
            for _ in range(count)
        ]
        relationships = Relationship.objects.bulk_create(
            (
                Relationship(
                    cohort=cohort,
                    started_at=started[i],
                    score=round(rng.uniform(0.45, 0.95), 3),
                    explanation="Her expertise meets his development areas; an hour apart.",
                )
                for i in range(count)
            ),
            batch_size=2000,
        )
        self.counts["relationships"] = count
        created = RelationshipMember.objects.bulk_create(
            (
                RelationshipMember(relationship=relationships[i], enrolment=enrolment, role=role)
                for i in range(count)
                for role, enrolment in (("mentor", mentors[i // 2]), ("mentee", mentees[i]))
            ),
            batch_size=2000,
        )
        pairs = [(created[2 * i], created[2 * i + 1]) for i in range(count)]
        members: dict[int, list[int]] = defaultdict(list)
        for i, relationship in enumerate(relationships):
            members[mentors[i // 2].user_id].append(relationship.pk)
            members[mentees[i].user_id].append(relationship.pk)
        user_of = {m.pk: m.enrolment.user for pair in pairs for m in pair}

        cadences = [rng.choice((7, 14, 14, 14, 28)) for _ in range(count)]
        agreements = Agreement.objects.bulk_create(
            (
                Agreement(
                    relationship=relationships[i],
                    text="We meet regularly, keep what we share confidential, and say so early "
                    "if it is not working.",
                    meeting_cadence_days=cadences[i],
                    updated_by=user_of[pairs[i][0].pk],
                )
                for i in range(count)
                if rng.random() < 0.97
            ),
            batch_size=2000,
        )
        index_of = {r.pk: i for i, r in enumerate(relationships)}
        AgreementSignature.objects.bulk_create(
            (
                AgreementSignature(agreement=agreement, member=member, version=1)
                for agreement in agreements
                for member in pairs[index_of[agreement.relationship_id]]
                if rng.random() < 0.95
            ),
            batch_size=2000,
        )

        check_ins: list[CheckIn] = []
        partner_of: list[RelationshipMember] = []
        for i in range(count):
            day = started[i].date() + dt.timedelta(days=rng.randint(2, 9))
            last: CheckIn | None = None
            while day < today:
                if rng.random() < 0.9:
                    logger, other = pairs[i] if rng.random() < 0.5 else pairs[i][::-1]
                    logged_at = self._at(day, rng.randint(16, 21))
                    recent = (today - day).days < 5
                    confirmed = rng.random() < (0.5 if recent else 0.92)
                    last = CheckIn(
                        relationship=relationships[i],
                        logged_by=logger,
                        met_on=day,
                        duration_minutes=rng.choice((30, 45, 60, 60, 90)),
                        mode=rng.choice(CheckIn.Mode.values),
                        summary=rng.choice(SUMMARIES),
                        next_steps="Draft the proposal and share it before the next meeting.",
                        confirmed_by=other if confirmed else None,
                        confirmed_at=logged_at + dt.timedelta(hours=rng.randint(2, 40))
                        if confirmed
                        else None,
                        created_at=logged_at,
                    )
                    check_ins.append(last)
                    partner_of.append(other)
                day += dt.timedelta(days=max(3, cadences[i] + rng.randint(-2, 3)))
            if last is not None and rng.random() < 0.5:
                last.next_meeting_at = self.now + dt.timedelta(days=rng.randint(1, 14), hours=3)
        with explicit_timestamps((CheckIn, "created_at")):
            check_ins = CheckIn.objects.bulk_create(check_ins, batch_size=2000)
        self.counts["check-ins"] = len(check_ins)
        pulses = Pulse.objects.bulk_create(
            (
                Pulse(check_in=check_in, author=author, usefulness=rng.choice((3, 4, 4, 5, 5)))
                for check_in in check_ins
                for author in pairs[index_of[check_in.relationship_id]]
                if rng.random() < 0.7
            ),
            batch_size=2000,
        )
        self.counts["pulses"] = len(pulses)
        CheckInComment.objects.bulk_create(
            (
                CheckInComment(check_in=check_in, author=other, text="Thanks, that helped a lot.")
                for check_in, other in zip(check_ins, partner_of, strict=True)
                if rng.random() < 0.15
            ),
            batch_size=2000,
        )
        PrivateNote.objects.bulk_create(
            (
                PrivateNote(
                    author=user_of[check_in.logged_by_id],
                    relationship_id=check_in.relationship_id,
                    check_in=check_in,
                    text="Ask about the team change next time.",
                )
                for check_in in check_ins
                if rng.random() < 0.1
            ),
            batch_size=2000,
        )
        self._goals(relationships, pairs, started, user_of)
        self._notifications(relationships, pairs, check_ins, partner_of, user_of, index_of)
        return dict(members), relationships[0]

    def _goals(
        self,
        relationships: list[Relationship],
        pairs: list[tuple[RelationshipMember, RelationshipMember]],
        started: list[dt.datetime],
        user_of: dict[int, User],
    ) -> None:
        rng, today = self.rng, self.today
        goals: list[Goal] = []
        for i, relationship in enumerate(relationships):
            for _ in range(rng.choice((1, 1, 2, 2, 3))):
                owner = pairs[i][1] if rng.random() < 0.85 else pairs[i][0]
                status = rng.choices(
                    ("on_track", "not_started", "at_risk", "done", "dropped"), (50, 20, 12, 13, 5)
                )[0]
                goals.append(
                    Goal(
                        relationship=relationship,
                        owner=owner,
                        title=rng.choice(GOAL_TITLES),
                        measure="Agreed with my manager at the end of the cohort.",
                        target_date=today + dt.timedelta(days=rng.randint(-10, 120)),
                        status=status,
                        progress=100 if status == "done" else rng.randint(0, 90),
                        created_by=user_of[owner.pk],
                        created_at=started[i] + dt.timedelta(days=rng.randint(1, 20)),
                    )
                )
        with explicit_timestamps((Goal, "created_at")):
            goals = Goal.objects.bulk_create(goals, batch_size=2000)
        self.counts["goals"] = len(goals)
        Milestone.objects.bulk_create(
            (
                Milestone(
                    goal=goal,
                    title=f"Step {n + 1}",
                    due_on=goal.target_date - dt.timedelta(days=30 * (2 - n)),
                    done_at=self.now - dt.timedelta(days=rng.randint(1, 40))
                    if rng.random() < 0.4
                    else None,
                )
                for goal in goals
                for n in range(rng.randint(0, 3))
            ),
            batch_size=2000,
        )
        changes = []
        for goal in goals:
            progress = 0
            when = goal.created_at
            for _ in range(rng.randint(0, 3)):
                when = min(when + dt.timedelta(days=rng.randint(5, 20)), self.now)
                new = min(100, progress + rng.randint(5, 30))
                changes.append(
                    GoalChange(
                        goal=goal,
                        changed_by=goal.created_by,
                        changed_at=when,
                        field="progress",
                        old_value=str(progress),
                        new_value=str(new),
                    )
                )
                progress = new
        with explicit_timestamps((GoalChange, "changed_at")):
            GoalChange.objects.bulk_create(changes, batch_size=2000)

    def _notifications(
        self,
        relationships: list[Relationship],
        pairs: list[tuple[RelationshipMember, RelationshipMember]],
        check_ins: list[CheckIn],
        partner_of: list[RelationshipMember],
        user_of: dict[int, User],
        index_of: dict[int, int],
    ) -> None:
        """What 90 days of use leaves in everyone's notification centre: a notification (and
        its sent email) for each meeting the partner logged, and a few reminders; the old ones
        read."""
        rng = self.rng
        rows: list[tuple[User, str, str, str, dt.datetime]] = []
        for check_in, other in zip(check_ins, partner_of, strict=True):
            logger = user_of[check_in.logged_by_id]
            url = reverse("goals:relationship_home", args=[check_in.relationship_id])
            rows.append(
                (
                    user_of[other.pk],
                    Notification.Kind.CHECK_IN_LOGGED,
                    f"{logger.display_name} logged a meeting on {check_in.met_on:%-d %b}",
                    f"{url}#check-in-{check_in.pk}",
                    check_in.created_at,
                )
            )
        reminders = (
            (Notification.Kind.CHECK_IN_DUE, "A check-in is due"),
            (Notification.Kind.GOAL_DUE_SOON, "A goal's target date is near"),
            (Notification.Kind.MEETINGS_TO_RATE, "Meetings to rate"),
        )
        for relationship in relationships:
            url = reverse("goals:relationship_home", args=[relationship.pk])
            for member in pairs[index_of[relationship.pk]]:
                for _ in range(rng.randint(1, 3)):
                    kind, title = rng.choice(reminders)
                    when = self.now - dt.timedelta(
                        days=rng.uniform(0, self.sizes.history_days - 10)
                    )
                    rows.append((user_of[member.pk], kind, title, url, when))
        emails = [
            OutboundEmail(
                to=[user.email],
                subject=f"[Mentorship] {title}",
                text_body=f"{title}.\n\nOpen it: {BASE_URL}{url}\n",
                status=OutboundEmail.Status.SENT,
                attempts=1,
                due_at=when,
                claimed_at=when,
                created_at=when,
                sent_at=when + dt.timedelta(seconds=2),
            )
            for user, _, title, url, when in rows
        ]
        with explicit_timestamps((OutboundEmail, "created_at"), (Notification, "created_at")):
            emails = OutboundEmail.objects.bulk_create(emails, batch_size=2000)
            notifications = Notification.objects.bulk_create(
                (
                    Notification(
                        recipient=user,
                        email=user.email,
                        kind=kind,
                        key=f"bench:{n}",
                        title=title,
                        url=url,
                        outbound_email=email,
                        created_at=when,
                        read_at=when + dt.timedelta(hours=rng.randint(1, 48))
                        if when < self.now - dt.timedelta(days=7) and rng.random() < 0.85
                        else None,
                    )
                    for n, ((user, kind, title, url, when), email) in enumerate(
                        zip(rows, emails, strict=True)
                    )
                ),
                batch_size=2000,
            )
        self.counts["notifications"] = len(notifications)

    def _matching(
        self, program: Program, mentors: list[User], mentees: list[User], coordinator: User
    ) -> tuple[MatchRun, list[int]]:
        """The next cohort, in matching: the mentors again, the mentees the first cohort could
        not place, and a few from its relationships whom this run leaves unmatched."""
        rng, sizes, today = self.rng, self.sizes, self.today
        count = min(sizes.proposals, 2 * len(mentors), len(mentees) - self.counts["relationships"])
        waiting = mentees[self.counts["relationships"] :][:count]
        left_out = mentees[: sizes.unmatched]
        cohort = Cohort.objects.create(
            program=program,
            name=f"Autumn {today.year}",
            status=Cohort.Status.MATCHING,
            starts_on=today + dt.timedelta(days=21),
            ends_on=today + dt.timedelta(days=21, weeks=COHORT_WEEKS),
        )
        mentor_enrolments = Enrolment.objects.bulk_create(
            Enrolment(
                cohort=cohort,
                user=user,
                role=Enrolment.Role.MENTOR,
                status=Enrolment.Status.APPROVED,
                capacity=2,
            )
            for user in mentors
        )
        mentee_enrolments = Enrolment.objects.bulk_create(
            (
                Enrolment(
                    cohort=cohort,
                    user=user,
                    role=Enrolment.Role.MENTEE,
                    status=Enrolment.Status.APPROVED,
                    development_goals="Grow into a lead role.",
                )
                for user in [*waiting, *left_out]
            ),
            batch_size=2000,
        )
        weights = Weights().as_dict()
        scores = [round(rng.uniform(0.45, 0.95), 4) for _ in range(count)]
        finished = self.now - dt.timedelta(minutes=10)
        run = MatchRun.objects.create(
            cohort=cohort,
            created_by=coordinator,
            status=MatchRun.Status.SUCCEEDED,
            objective=MatchRun.Objective.SCORE,
            parameters={
                "mode": "one_to_one",
                "objective": "score",
                "weights": weights,
                "rules": {
                    "require_shared_language": True,
                    "max_time_zone_gap_hours": None,
                    "allow_past_partners": False,
                    "max_peer_level_gap": 2,
                    "excluded_pairs": [],
                },
                "locked_pairs": [],
                "relaxed": [],
            },
            progress=100,
            progress_message="Done",
            started_at=finished - dt.timedelta(seconds=5),
            finished_at=finished,
            duration_seconds=4.6,
            objective_value=sum(scores),
            matched_count=count,
            unmatched_count=len(left_out),
        )
        Proposal.objects.bulk_create(
            (
                Proposal(
                    run=run,
                    mentor=mentor_enrolments[j // 2],
                    mentee=mentee_enrolments[j],
                    score=scores[j],
                    components={name: round(rng.random(), 3) for name in weights},
                    explanation="Their expertise meets two of the mentee's development areas; "
                    "another department, as asked; two hours apart.",
                    alternatives=[
                        {
                            "mentor": rng.choice(mentor_enrolments).pk,
                            "score": round(scores[j] - rng.uniform(0.01, 0.2), 4),
                            "has_capacity": rng.random() < 0.3,
                        }
                        for _ in range(3)
                    ],
                    decision=Proposal.Decision.ACCEPTED,
                )
                for j in range(count)
            ),
            batch_size=2000,
        )
        UnmatchedResult.objects.bulk_create(
            UnmatchedResult(
                run=run,
                enrolment=enrolment,
                reason_code="no_capacity",
                reason="Every mentor who fits is full.",
            )
            for enrolment in mentee_enrolments[count:]
        )
        publish_users = [u.pk for u in mentors[: math.ceil(count / 2)]] + [u.pk for u in waiting]
        return run, publish_users


def write_sessions(users: list[User]) -> dict[int, str]:
    """Signed-in sessions, written as Django's login would write them (faster than signing in
    through the form thousands of times, and the login page is the reference, not a subject)."""
    engine = import_module(settings.SESSION_ENGINE)
    sessions = {}
    for user in users:
        store = engine.SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        sessions[user.pk] = store.session_key
    return sessions


# --- The servers ---------------------------------------------------------------------------------


class Stack:
    """gunicorn, a Celery worker and beat, each in a process group of its own, so stopping one
    stops its children too."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.files: list[IO[bytes]] = []
        self.config = ROOT / "gunicorn.conf.py"
        self.has_config = self.config.is_file()

    def start(self, name: str, command: list[str]) -> None:
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 (open while the process runs)
        self.files.append(log)
        self.processes[name] = subprocess.Popen(  # noqa: S603 (our own fixed command)
            command,
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_all(self) -> None:
        python = sys.executable
        bind = f"127.0.0.1:{PORT}"
        if self.has_config:
            web = [python, "-m", "gunicorn", "-c", str(self.config), "--bind", bind]
        else:
            web = [python, "-m", "gunicorn", "mentorship.wsgi:application", "--workers", "3"]
            web += ["--bind", bind, "--access-logfile", "-"]
        self.start("gunicorn", web)
        self.start(
            "worker",
            [
                *(python, "-m", "celery", "-A", "mentorship", "worker", "--loglevel", "INFO"),
                *("--concurrency", "2", "--hostname", f"load-bench-{PORT}@%h"),
            ],
        )
        self.start(
            "beat",
            [
                *(python, "-m", "celery", "-A", "mentorship", "beat", "--loglevel", "INFO"),
                *("--pidfile", str(self.logs / "beat.pid")),
                *("--schedule", str(self.logs / "beat-schedule")),
            ],
        )
        deadline = time.monotonic() + 90
        while True:
            self.check_alive()
            answer = Browser().get("/accounts/login/")
            worker_ready = "ready." in (self.logs / "worker.log").read_text(errors="replace")
            if answer.status == 200 and worker_ready:
                return
            if time.monotonic() > deadline:
                raise SystemExit(
                    "the servers did not come up in 90 s (login page: "
                    f"{answer.status or answer.error}, worker ready: {worker_ready}); "
                    f"see {self.logs}"
                )
            time.sleep(0.5)

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                tail = (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]
                raise SystemExit(f"{name} exited with {process.returncode}:\n{tail}")

    def describe(self) -> str:
        if self.has_config:
            web = (
                f"gunicorn -c gunicorn.conf.py ({gunicorn_shape()}) on 127.0.0.1:{PORT}, "
                "mentorship.settings.production"
            )
        else:
            web = (
                f"gunicorn with 3 sync workers (no gunicorn.conf.py at the repo root: gunicorn's "
                f"defaults) on 127.0.0.1:{PORT}, mentorship.settings.production"
            )
        return f"{web}; celery worker (concurrency 2) and beat on {REDIS_URL}"

    def report_problems(self) -> None:
        """Lines in the logs that say a request or task went wrong, for whoever reads the
        figures."""
        for name in self.processes:
            text = (self.logs / f"{name}.log").read_text(errors="replace")
            # /healthz answers 503 (logged as an error) until the worker's first heartbeat.
            text = "\n".join(
                line for line in text.splitlines() if "Service Unavailable: /healthz" not in line
            )
            found = {
                marker: text.count(marker)
                for marker in ("Traceback", "WORKER TIMEOUT", " ERROR ", "CRITICAL")
                if marker in text
            }
            if found:
                what = ", ".join(f"{n} x {marker.strip()!r}" for marker, n in found.items())
                print(f"log               {name}: {what} (see {self.logs / f'{name}.log'})")

    def stop(self) -> None:
        for process in self.processes.values():
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        # Children (gunicorn's workers, celery's pool) that outlived their parent.
        for process in self.processes.values():
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        for log in self.files:
            log.close()
        self.processes.clear()


def gunicorn_shape() -> str:
    """Workers and threads as gunicorn.conf.py sets them here (it reads the environment)."""
    namespace: dict[str, Any] = {"__file__": str(ROOT / "gunicorn.conf.py")}
    try:
        exec(  # noqa: S102 (our own configuration file, as gunicorn itself reads it)
            compile((ROOT / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), namespace
        )
    except Exception as error:  # the file is another helper's and may be mid-edit
        return f"unreadable: {error}"
    return (
        f"{namespace.get('workers', 1)} {namespace.get('worker_class', 'sync')} workers x "
        f"{namespace.get('threads', 1)} threads, timeout {namespace.get('timeout', 30)} s"
    )


def redis_flush() -> bool:
    """Empty the bench's own Redis database: a task left by an interrupted run must not run
    against the next run's data. False when Redis does not answer."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).flushdb()
    except redis.RedisError:
        return False
    return True


# --- A browser -----------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int  # 0: no answer (refused, reset, timed out)
    seconds: float
    body: str = ""
    location: str = ""
    error: str = ""


class Browser:
    """One person's browser: its cookies (session, CSRF token, messages), a new connection per
    request. Cookies' Secure flag is ignored: production sets it for the TLS proxy in front,
    which this bench stands in for."""

    def __init__(self, session: str | None = None) -> None:
        self.cookies: dict[str, str] = {}
        if session:
            self.cookies[settings.SESSION_COOKIE_NAME] = session

    def get(self, path: str) -> Answer:
        return self._send("GET", path)

    def post(self, path: str, fields: list[tuple[str, str]], *, referer: str) -> Answer:
        return self._send("POST", path, body=urlencode(fields), referer=referer)

    def _send(self, method: str, path: str, body: str | None = None, referer: str = "") -> Answer:
        headers = {
            "User-Agent": "mentorship-load-bench",
            "Accept": "text/html,application/xhtml+xml",
            "Connection": "close",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = BASE_URL
            headers["Referer"] = BASE_URL + referer
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=REQUEST_TIMEOUT)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            seconds = time.perf_counter() - started
            for header in response.headers.get_all("Set-Cookie") or []:
                self._keep_cookie(header)
            return Answer(
                status=response.status,
                seconds=seconds,
                body=data.decode("utf-8", errors="replace"),
                location=response.headers.get("Location", ""),
            )
        except (OSError, http.client.HTTPException) as error:
            failed = f"{type(error).__name__}: {error}"
            return Answer(0, time.perf_counter() - started, error=failed)
        finally:
            conn.close()

    def _keep_cookie(self, header: str) -> None:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(header)
        except CookieError:
            return
        for name, morsel in jar.items():
            if morsel.value == "" or morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)


class FormParser(HTMLParser):
    """The forms of a page with the values a browser would submit (no submit buttons)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(action=a.get("action", ""), method=a.get("method", "get")))
            return
        if not self.forms:
            return
        form = self.forms[-1]
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "reset", "image", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            form.fields.append((name, a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self._select, self._options = name, []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None and self.forms:
            chosen = [value for value, selected in self._options if selected]
            if chosen or self._options:
                self.forms[-1].fields.append((self._select, (chosen or [self._options[0][0]])[0]))
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self.forms:
            self.forms[-1].fields.append((self._textarea, "".join(self._text)))
            self._textarea = None


def form_posting_to(html: str, action: str, *, page: str) -> Form | None:
    """The page's form that posts to `action` (a form without an action posts to its page)."""
    parser = FormParser()
    parser.feed(html)
    for form in parser.forms:
        form.action = form.action or page
        if form.method.lower() == "post" and form.action.split("?")[0] == action:
            return form
    return None


# --- Counting ------------------------------------------------------------------------------------


class Errors:
    """5xx answers and failed requests, in every phase."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.examples: list[str] = []

    def check(self, label: str, answer: Answer) -> None:
        if answer.status == 0 or answer.status >= 500:
            with self.lock:
                self.count += 1
                if len(self.examples) < 10:
                    self.examples.append(f"{label}: {answer.status or answer.error}")


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: the smallest value at least `share` of the values are at or below."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def path_only(location: str) -> str:
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --- (a) One request at a time -------------------------------------------------------------------


def single_requests(world: World, errors: Errors) -> dict[str, float]:
    """Median time of each main page beside the login page's; returns page -> ratio."""
    coordinator = Browser(world.sessions[world.coordinator_ids[0]])
    mentee = Browser(world.sessions[world.sample_mentee_id])
    mentor = Browser(world.sessions[world.sample_mentor_id])
    relationship = world.sample_relationship_id
    pages: list[tuple[str, Browser, str]] = [
        ("login page", Browser(), reverse("account_login")),
        ("program list", coordinator, reverse("programs:program_list")),
        ("cohort page", coordinator, reverse("programs:cohort_detail", args=[world.cohort_id])),
        ("matching run page", coordinator, reverse("matching:run_detail", args=[world.run_id])),
        (
            "relationship list",
            coordinator,
            reverse("goals:relationship_list", args=[world.cohort_id]),
        ),
        ("home (mentee)", mentee, reverse("core:home")),
        ("home (mentor)", mentor, reverse("core:home")),
        ("relationship home", mentee, reverse("goals:relationship_home", args=[relationship])),
        ("check-in form", mentee, reverse("goals:check_in_create", args=[relationship])),
        ("notifications", mentee, reverse("notifications:centre")),
    ]
    for _ in range(WARM_UP_ROUNDS):
        for label, browser, path in pages:
            answer = browser.get(path)
            errors.check(label, answer)
            if answer.status != 200:
                raise SystemExit(
                    f"{label} ({path}) answered {answer.status or answer.error} "
                    f"{answer.location}: the bench cannot time it"
                )
    times: dict[str, list[float]] = defaultdict(list)
    # Interleaved, so a slow minute on a shared machine touches every page alike.
    for _ in range(SAMPLES):
        for label, browser, path in pages:
            answer = browser.get(path)
            errors.check(label, answer)
            times[label].append(answer.seconds)
    login = statistics.median(times["login page"])
    print()
    print(
        f"(a) one request at a time: median of {SAMPLES} (after {WARM_UP_ROUNDS} warm-up rounds),"
        " beside the login page's"
    )
    print(f"reference         {'login page':<20} {login * 1000:7.1f} ms")
    ratios = {}
    for label, _, path in pages[1:]:
        median = statistics.median(times[label])
        ratios[label] = median / login
        print(
            f"page              {label:<20} {median * 1000:7.1f} ms {ratios[label]:6.1f} x"
            f"   (max {max(times[label]) * 1000:.0f} ms)  {path}"
        )
    slowest = sorted(ratios.items(), key=lambda item: -item[1])[:3]
    print("slowest           " + ", ".join(f"{label} {ratio:.1f} x" for label, ratio in slowest))
    return ratios


# --- (b) Many people at once ---------------------------------------------------------------------


@dataclass
class LoadResult:
    healthz_p95_ms: float


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seconds: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, Counter[int]] = defaultdict(Counter)

    def add(self, label: str, answer: Answer) -> None:
        with self.lock:
            self.seconds[label].append(answer.seconds)
            self.statuses[label][answer.status] += 1


class Person:
    """A simulated person clicking around for the length of the test."""

    def __init__(
        self,
        *,
        browser: Browser,
        world: World,
        relationships: list[int],
        coordinator: bool,
        think: float,
        seed: int,
    ) -> None:
        self.browser = browser
        self.world = world
        self.relationships = relationships
        self.coordinator = coordinator
        self.think = think
        self.rng = random.Random(seed)

    def act(self, recorder: Recorder, errors: Errors) -> None:
        def get(label: str, path: str) -> Answer:
            answer = self.browser.get(path)
            recorder.add(label, answer)
            errors.check(label, answer)
            return answer

        rng, world = self.rng, self.world
        if self.coordinator:
            what = rng.choices(("programs", "cohort", "relationships", "run"), (15, 25, 30, 30))[0]
            if what == "programs":
                get("program list", reverse("programs:program_list"))
            elif what == "cohort":
                get("cohort page", reverse("programs:cohort_detail", args=[world.cohort_id]))
            elif what == "relationships":
                page = rng.randint(1, world.relationship_pages)
                path = reverse("goals:relationship_list", args=[world.cohort_id])
                get("relationship list", f"{path}?page={page}" if page > 1 else path)
            else:
                page = rng.randint(1, world.run_pages)
                path = reverse("matching:run_detail", args=[world.run_id])
                get("matching run page", f"{path}?page={page}" if page > 1 else path)
            return
        relationship = rng.choice(self.relationships)
        actions = ("home", "relationship", "notifications", "check-in")
        what = rng.choices(actions, (30, 30, 15, 15))[0]
        if what == "home":
            get("home", reverse("core:home"))
        elif what == "relationship":
            get("relationship home", reverse("goals:relationship_home", args=[relationship]))
        elif what == "notifications":
            get("notifications", reverse("notifications:centre"))
        else:
            path = reverse("goals:check_in_create", args=[relationship])
            form_page = get("check-in form", path)
            if form_page.status != 200 or rng.random() >= 0.4:
                return
            time.sleep(self.think * rng.uniform(1, 3))  # filling the form in
            form = form_posting_to(form_page.body, path, page=path)
            if form is None:
                recorder.add("check-in POST (no form on the page)", form_page)
                return
            fields = [(k, v) for k, v in form.fields if k not in ("summary", "private_note")]
            fields.append(("summary", rng.choice(SUMMARIES)))
            if rng.random() < 0.3:
                fields.append(("private_note", "Follow up on the promotion case."))
            answer = self.browser.post(form.action, fields, referer=path)
            recorder.add("check-in POST", answer)
            errors.check("check-in POST", answer)
            if answer.status in (301, 302, 303) and answer.location:
                get("relationship home", path_only(answer.location))

    def loop(self, until: float, recorder: Recorder, errors: Errors) -> None:
        time.sleep(self.rng.uniform(0, 5))  # people arrive over a few seconds, not at once
        while time.monotonic() < until:
            self.act(recorder, errors)
            time.sleep(self.think * self.rng.uniform(0.5, 1.5))


def poll_healthz(stop: threading.Event, recorder: Recorder) -> None:
    browser = Browser()
    next_at = time.monotonic()
    while not stop.is_set():
        recorder.add("/healthz", browser.get("/healthz"))
        next_at += HEALTHZ_EVERY
        stop.wait(max(0.0, next_at - time.monotonic()))


def wait_for_healthy(seconds: float) -> str:
    """Beat sends the worker's first heartbeat within a minute of starting; until then /healthz
    rightly answers 503."""
    deadline = time.monotonic() + seconds
    while True:
        answer = Browser().get("/healthz")
        if answer.status == 200 or time.monotonic() > deadline:
            try:
                status = json.loads(answer.body).get("status", "?")
            except ValueError:
                status = answer.error or answer.body[:100]
            return f"{answer.status} {status} after {seconds - (deadline - time.monotonic()):.0f} s"
        time.sleep(2)


def under_load(world: World, sizes: Sizes, think: float, errors: Errors) -> LoadResult:
    health = wait_for_healthy(90)
    coordinators = max(1, round(sizes.users * COORDINATOR_SHARE))
    rng = random.Random(2)
    participants = rng.sample(sorted(world.members), sizes.users - coordinators)
    people = [
        Person(
            browser=Browser(world.sessions[world.coordinator_ids[n % len(world.coordinator_ids)]]),
            world=world,
            relationships=[],
            coordinator=True,
            think=think,
            seed=100 + n,
        )
        for n in range(coordinators)
    ] + [
        Person(
            browser=Browser(world.sessions[user_id]),
            world=world,
            relationships=world.members[user_id],
            coordinator=False,
            think=think,
            seed=1000 + n,
        )
        for n, user_id in enumerate(participants)
    ]
    recorder = Recorder()
    health_recorder = Recorder()
    stop = threading.Event()
    errors_before = errors.count
    until = time.monotonic() + sizes.seconds
    started = time.perf_counter()
    threads = [
        threading.Thread(target=p.loop, args=(until, recorder, errors), daemon=True) for p in people
    ]
    poller = threading.Thread(target=poll_healthz, args=(stop, health_recorder), daemon=True)
    poller.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    poller.join()
    elapsed = time.perf_counter() - started

    total = sum(len(v) for v in recorder.seconds.values())
    statuses: Counter[int] = Counter()
    for counter in recorder.statuses.values():
        statuses.update(counter)
    print()
    print(
        f"(b) {sizes.users} people for {sizes.seconds:.0f} s: {len(people) - coordinators} "
        f"participants, {coordinators} coordinators, {think * 0.5:.1f}-{think * 1.5:.1f} s between "
        f"clicks; /healthz before: {health}"
    )
    print(
        f"requests          {total:,} in {elapsed:.0f} s ({total / elapsed:.1f}/s); statuses "
        + ", ".join(f"{status or 'failed'}: {n:,}" for status, n in sorted(statuses.items()))
        + f"; errors {errors.count - errors_before}"
    )
    print(f"{'':18}{'':<22}{'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for label in sorted(recorder.seconds, key=lambda k: -statistics.median(recorder.seconds[k])):
        values = recorder.seconds[label]
        expected = 302 if "POST" in label else 200  # a POST answered 200 was refused
        odd = {s: n for s, n in recorder.statuses[label].items() if s != expected}
        print(
            f"{'action':<18}{label:<22}{len(values):>6} {statistics.median(values) * 1000:>8.0f} "
            f"{percentile(values, 0.95) * 1000:>8.0f} {max(values) * 1000:>8.0f}"
            + (f"   statuses {dict(odd)}" if odd else "")
        )
    health_times = health_recorder.seconds["/healthz"]
    p95 = percentile(health_times, 0.95) * 1000
    print(
        f"healthz           {len(health_times)} polls: "
        f"p50 {statistics.median(health_times) * 1000:.0f} ms, p95 {p95:.0f} ms, "
        f"max {max(health_times) * 1000:.0f} ms; statuses "
        + ", ".join(
            f"{status or 'failed'}: {n}"
            for status, n in sorted(health_recorder.statuses["/healthz"].items())
        )
    )
    if errors.examples:
        print("errors            " + "; ".join(errors.examples))
    return LoadResult(healthz_p95_ms=p95)


# --- (c) Publishing through the web --------------------------------------------------------------


def publish_job_status(run_id: int) -> str:
    """The status of the run's publishing job, where publishing is one ("none" where the
    request itself publishes)."""
    try:
        found = (
            MatchRun.objects.filter(pk=run_id).values_list("publish_job__status", flat=True).first()
        )
    except FieldError:
        return "none"
    return str(found) if found else "none"


@dataclass
class PublishResult:
    request_ms: float
    done_s: float


def publish_run(world: World, errors: Errors) -> PublishResult:
    """As the coordinator does: the run page, its publish form, the POST; then the database
    until every relationship and every email exists (and, for information, is sent)."""
    browser = Browser(world.sessions[world.coordinator_ids[0]])
    run_path = reverse("matching:run_detail", args=[world.run_id])
    publish_path = reverse("matching:run_publish", args=[world.run_id])
    page = browser.get(run_path)
    errors.check("publish: run page", page)
    form = form_posting_to(page.body, publish_path, page=run_path)
    print()
    if form is None:
        print(f"(c) publish        no form posting to {publish_path} on {run_path} ({page.status})")
        errors.count += 1
        return PublishResult(math.nan, math.nan)
    since = timezone.now()
    started = time.perf_counter()
    answer = browser.post(form.action, form.fields, referer=run_path)
    errors.check("publish POST", answer)
    request_ms = answer.seconds * 1000
    print(
        f"(c) publish {world.accepted:,} accepted pairs: POST {publish_path} with "
        f"{', '.join(name for name, _ in form.fields)}"
    )
    print(
        f"publish POST      {request_ms:.0f} ms -> {answer.status or answer.error} "
        f"{path_only(answer.location)}"
    )
    if answer.location:
        follow = browser.get(path_only(answer.location))
        errors.check("publish: page after", follow)

    emails = Notification.objects.filter(
        kind=Notification.Kind.MATCH_PUBLISHED,
        recipient_id__in=world.publish_user_ids,
        created_at__gte=since,
        outbound_email__isnull=False,
    )
    sent = OutboundEmail.objects.filter(notification__in=emails, status=OutboundEmail.Status.SENT)
    relationships = Relationship.objects.filter(source_run_id=world.run_id)
    run = MatchRun.objects.filter(pk=world.run_id)
    wanted = world.accepted
    deadline = time.monotonic() + max(300.0, world.accepted * 0.6)
    done_s = sent_s = published_s = math.nan
    made = mailed = delivered = 0
    job = "none"
    while time.monotonic() < deadline:
        elapsed = time.perf_counter() - started
        if math.isnan(done_s):
            made, mailed = relationships.count(), emails.count()
            if made >= wanted and mailed >= 2 * wanted:
                done_s = elapsed
        if math.isnan(published_s) and run.filter(published_at__isnull=False).exists():
            published_s = elapsed
        job = publish_job_status(world.run_id)
        if not math.isnan(done_s) and math.isnan(sent_s):
            delivered = sent.count()
            if delivered >= mailed:
                sent_s = elapsed
        finished = not math.isnan(published_s) or job == "failed"
        if not math.isnan(done_s) and not math.isnan(sent_s) and finished:
            break
        time.sleep(0.25)
    waited = time.perf_counter() - started
    if math.isnan(done_s):
        print(
            f"done              NOT DONE after {waited:.0f} s: {made:,}/{wanted:,} relationships, "
            f"{mailed:,}/{2 * wanted:,} emails"
        )
    else:
        print(
            f"done              {made:,} relationships and {mailed:,} emails exist after "
            f"{done_s:.1f} s; "
            + (
                f"all sent after {sent_s:.1f} s"
                if not math.isnan(sent_s)
                else f"{delivered:,} sent by {waited:.0f} s"
            )
        )
    print(
        "run               "
        + (
            f"marked published after {published_s:.1f} s"
            if not math.isnan(published_s)
            else f"NOT marked published after {waited:.0f} s"
        )
        + f"; publishing job: {job}"
    )
    return PublishResult(request_ms, done_s)


if __name__ == "__main__":
    main()
