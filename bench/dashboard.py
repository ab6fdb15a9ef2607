"""The cohort dashboard at scale, served as in production, beside a bare Django page.

    python bench/dashboard.py [--relationships 10000] [--clients 20] [--seconds 30] [--reuse]

Builds, with bench/load.py's organisation builder, a cohort of 10,000 active relationships with
a year of history (agreements and signatures, check-ins every one to four weeks with pulses,
comments and private notes, goals with milestones and changes), then adds what the dashboard
reads beyond that: midpoint survey answers, a twentieth of the pairs ended (most with their
goals achieved), applicants still waiting, invitations not yet accepted. A second cohort of the
same program has 100 relationships, for the query count at 100. The database is the bench's own
(on PostgreSQL, DATABASE_URL, a `<name>_bench` database, flushed; otherwise a temporary SQLite
file, whose figures under load mean little). `--reuse` keeps the data of the last run.

Then it counts the dashboard's queries in this process (the figures computed, the cache
cleared: that is the number that must not grow with the rows), serves the database with
gunicorn on 127.0.0.1 (the project's gunicorn.conf.py, mentorship.settings.production, Redis as
the cache), and loads the cohort dashboard, then the login page (the bare reference), each with
20 clients for 30 s, in the same run. The dashboard caches its figures for a minute
(DASHBOARD_CACHE_SECONDS): the load measures what coordinators get most of the time, and the
cold computation is timed on its own beforehand. The last line is machine-readable:

RESULT dashboard relationships=10000 queries=<per dashboard request> queries_at_100=<same page
at 100> p95_ms=<dashboard p95> bare_p95_ms=<bare view p95> ratio=<p95_ms/bare_p95_ms>
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# bench.load sets up what production runs (settings, a secret key, Redis as cache) and the
# bench's own database, then Django; its builder, servers and browser are reused here.
from bench import load

# isort: split
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile, User
from bench.cohort_synthetic import DEPARTMENTS
from goals.models import CheckIn, SurveyAnswer, SurveyResponse
from matching.models import Relationship, RelationshipMember
from programs.models import Cohort, Enrolment, FeedbackQuestion, Invitation

RELATIONSHIPS = 10_000
SMALL = 100
HISTORY_DAYS = 365
CLIENTS = 20
SECONDS = 30.0
WARM_UP_SECONDS = 5.0
TARGET_RATIO = 3.0
BENCH_COHORT = "Dashboard bench"
SMALL_COHORT = "Dashboard bench, 100 pairs"
QUESTIONS = (
    ("How useful have your meetings been?", "everyone"),
    ("How likely are you to recommend the program to a colleague?", "everyone"),
    ("How well does your mentor listen and challenge you?", "mentee"),
)


class DashboardBuilder(load.Builder):
    """bench/load.py's organisation, without the notification history the dashboard never
    reads (hundreds of thousands of rows that only slow the build)."""

    def _notifications(self, *args: object, **kwargs: object) -> None:
        return None


def build(relationships: int) -> tuple[int, int, int]:
    """The organisation; returns the big cohort's id, the small one's and the coordinator's."""
    sizes = load.Sizes(
        mentees=relationships + 10,
        mentors=(relationships + 1) // 2,
        relationships=relationships,
        proposals=10,
        unmatched=0,
        seconds=SECONDS,
        users=CLIENTS,
        history_days=HISTORY_DAYS,
        cohort_weeks=60,
        member_sessions=False,
    )
    builder = DashboardBuilder(sizes, seed=7)
    world = builder.build()
    cohort = Cohort.objects.get(pk=world.cohort_id)
    cohort.name = BENCH_COHORT
    cohort.save(update_fields=["name"])
    program = cohort.program
    rng = random.Random(8)
    questions = FeedbackQuestion.objects.bulk_create(
        FeedbackQuestion(
            program=program,
            text=text,
            answer_kind=FeedbackQuestion.AnswerKind.SCALE,
            asked_of=asked_of,
            position=n,
        )
        for n, (text, asked_of) in enumerate(QUESTIONS)
    )

    # The same program's smaller cohort: 100 pairs of people from the big one, its history
    # built the same way.
    small = Cohort.objects.create(
        program=program,
        name=SMALL_COHORT,
        status=Cohort.Status.ACTIVE,
        starts_on=cohort.starts_on,
        ends_on=cohort.ends_on,
    )
    people = list(
        Enrolment.objects.filter(cohort=cohort).order_by("role", "pk").select_related("user")
    )
    mentors = [e for e in people if e.role == Enrolment.Role.MENTOR][: SMALL // 2]
    mentees = [e for e in people if e.role == Enrolment.Role.MENTEE][:SMALL]
    small_mentors = Enrolment.objects.bulk_create(
        Enrolment(cohort=small, user=e.user, role=e.role, status=e.status, capacity=2)
        for e in mentors
    )
    small_mentees = Enrolment.objects.bulk_create(
        Enrolment(cohort=small, user=e.user, role=e.role, status=e.status) for e in mentees
    )
    builder._relationships(small, small_mentors, small_mentees)

    for one in (cohort, small):
        extend(one, questions, rng)
    coordinator = program.coordinators.order_by("pk").first()
    assert coordinator is not None
    return cohort.pk, small.pk, coordinator.pk


def extend(cohort: Cohort, questions: list[FeedbackQuestion], rng: random.Random) -> None:
    """What the dashboard reads beyond load.py's history: surveys, endings, people waiting."""
    now = timezone.now()
    members = list(
        RelationshipMember.objects.filter(relationship__cohort=cohort).values_list(
            "pk", "relationship_id", "role"
        )
    )
    responses = SurveyResponse.objects.bulk_create(
        (
            SurveyResponse(relationship_id=relationship_id, author_id=pk, stage="midpoint")
            for pk, relationship_id, _ in members
            if rng.random() < 0.6
        ),
        batch_size=2000,
    )
    role_of = {pk: role for pk, _, role in members}
    SurveyAnswer.objects.bulk_create(
        (
            SurveyAnswer(
                response=response,
                question=question,
                scale_value=rng.choice((2, 3, 4, 4, 5, 5)),
                visible_to=question.visible_to,
            )
            for response in responses
            for question in questions
            if question.asked_of in ("everyone", role_of[response.author_id])
        ),
        batch_size=5000,
    )
    ids = list(Relationship.objects.filter(cohort=cohort).values_list("pk", flat=True))
    ended = rng.sample(ids, len(ids) // 20)
    achieved, early = ended[: len(ended) * 3 // 4], ended[len(ended) * 3 // 4 :]
    for chosen, outcome in ((achieved, "achieved"), (early, "ended_early")):
        Relationship.objects.filter(pk__in=chosen).update(
            status=Relationship.Status.ENDED, outcome=outcome, ended_at=now - dt.timedelta(days=20)
        )
    waiting = User.objects.bulk_create(
        User(
            email=f"applicant{cohort.pk}-{n}@dashboard.bench.example.org",
            display_name=f"Applicant {n}",
            password="!",  # noqa: S106 (unusable)
        )
        for n in range(len(ids) // 20)
    )
    Profile.objects.bulk_create(
        Profile(user=u, department=rng.choice(DEPARTMENTS)[0], job_level=rng.randint(1, 4))
        for u in waiting
    )
    Enrolment.objects.bulk_create(
        Enrolment(
            cohort=cohort,
            user=u,
            role=Enrolment.Role.MENTEE,
            status=rng.choice(
                (Enrolment.Status.APPLIED, Enrolment.Status.INVITED, Enrolment.Status.WAITLISTED)
            ),
        )
        for u in waiting
    )
    Invitation.objects.bulk_create(
        Invitation(cohort=cohort, email=f"invited{cohort.pk}-{n}@example.org", role="mentee")
        for n in range(len(ids) // 50)
    )


def count_queries(path: str, coordinator: User) -> tuple[int, int, float]:
    """The page's queries with its figures computed (the cache cleared) and then cached, and the
    computing request's time, through the test client in this process."""
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(coordinator)
    client.get(path)  # the session and the user are read once per request either way
    cache.clear()
    with CaptureQueriesContext(connection) as cold:
        started = time.perf_counter()
        response = client.get(path)
        seconds = time.perf_counter() - started
    assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as warm:
        client.get(path)
    return len(cold), len(warm), seconds


def hammer(
    label: str, get: Callable[[], load.Answer], *, clients: int, seconds: float
) -> list[float]:
    """`clients` threads requesting as fast as answered for `seconds`; the answer times."""
    times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    until = time.monotonic() + seconds

    def loop() -> None:
        while time.monotonic() < until:
            answer = get()
            with lock:
                if answer.status == 200:
                    times.append(answer.seconds)
                elif len(errors) < 5:
                    errors.append(f"{answer.status or answer.error}")
                else:
                    errors.append("")

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        print(f"errors            {label}: {len(errors)} ({', '.join(e for e in errors if e)})")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--relationships", type=int, default=RELATIONSHIPS)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--reuse", action="store_true", help="keep the last run's data")
    args = parser.parse_args()

    # bench.load's own line says "flushed"; here that happens unless --reuse keeps the data.
    print(f"database          {load.DATABASE.split(' (')[0]}")
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    existing = Cohort.objects.filter(name=BENCH_COHORT).first()
    if args.reuse and existing is not None:
        big_id = existing.pk
        small_id = Cohort.objects.get(name=SMALL_COHORT).pk
        coordinator_id = existing.program.coordinators.order_by("pk").values_list("pk", flat=True)[
            0
        ]
        print("build             reused the last run's data")
    else:
        call_command("flush", interactive=False, verbosity=0)
        big_id, small_id, coordinator_id = build(args.relationships)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        print(f"build             {time.perf_counter() - started:.1f} s")
    with open(os.devnull, "w") as quiet:
        call_command("collectstatic", interactive=False, verbosity=0, stdout=quiet)
    big = Relationship.objects.filter(cohort_id=big_id).count()
    small = Relationship.objects.filter(cohort_id=small_id).count()
    check_ins = CheckIn.objects.filter(relationship__cohort_id=big_id).count()
    print(f"data              {big:,} relationships ({check_ins:,} check-ins) and {small} more")

    coordinator = User.objects.get(pk=coordinator_id)
    dashboard = reverse("reports:cohort_dashboard", args=[big_id])
    small_dashboard = reverse("reports:cohort_dashboard", args=[small_id])
    queries, warm_queries, cold_seconds = count_queries(dashboard, coordinator)
    queries_small, warm_small, cold_small = count_queries(small_dashboard, coordinator)
    print(
        f"queries           {queries} computing the figures at {big:,} ({cold_seconds:.2f} s), "
        f"{queries_small} at {small} ({cold_small:.2f} s); {warm_queries} and {warm_small} "
        "with the figures cached"
    )
    cache.clear()
    connection.close()

    logs = Path(tempfile.mkdtemp(prefix="dashboard-bench-logs-"))
    stack = load.Stack(logs)
    try:
        python = sys.executable
        stack.start(
            "gunicorn",
            [python, "-m", "gunicorn", "-c", str(stack.config), "--bind", f"127.0.0.1:{load.PORT}"],
        )
        deadline = time.monotonic() + 60
        while load.Browser().get("/accounts/login/").status != 200:
            stack.check_alive()
            if time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not answer in 60 s; see {logs}")
            time.sleep(0.5)
        print(
            f"server            gunicorn -c gunicorn.conf.py ({load.gunicorn_shape()}), "
            f"mentorship.settings.production, on 127.0.0.1:{load.PORT}; logs {logs}"
        )
        session = load.write_sessions([coordinator])[coordinator.pk]
        browser = load.Browser(session)
        first = browser.get(dashboard)
        if first.status != 200:
            raise SystemExit(f"the dashboard answered {first.status or first.error}")
        print(f"first request     {first.seconds * 1000:.0f} ms (computes the figures)")
        # Every worker and thread loads its templates and connects before the clock starts.
        hammer(
            "warm-up",
            lambda: load.Browser(session).get(dashboard),
            clients=args.clients,
            seconds=WARM_UP_SECONDS,
        )
        hammer(
            "warm-up",
            lambda: load.Browser().get("/accounts/login/"),
            clients=args.clients,
            seconds=WARM_UP_SECONDS,
        )
        dashboard_times = hammer(
            "dashboard",
            lambda: load.Browser(session).get(dashboard),
            clients=args.clients,
            seconds=args.seconds,
        )
        bare_times = hammer(
            "login page",
            lambda: load.Browser().get("/accounts/login/"),
            clients=args.clients,
            seconds=args.seconds,
        )
        stack.report_problems()
    finally:
        stack.stop()

    p95 = load.percentile(dashboard_times, 0.95) * 1000
    bare_p95 = load.percentile(bare_times, 0.95) * 1000
    ratio = p95 / bare_p95
    for label, times in (("dashboard", dashboard_times), ("login page", bare_times)):
        print(
            f"{label:<18}{len(times):,} requests in {args.seconds:.0f} s "
            f"({len(times) / args.seconds:.1f}/s) by {args.clients} clients: p50 "
            f"{statistics.median(times) * 1000:.0f} ms, "
            f"p95 {load.percentile(times, 0.95) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms"
        )
    print(f"load              {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} CPUs")
    print(
        "targets           "
        f"queries {queries} = queries_at_100 {queries_small} {load.ok(queries == queries_small)}; "
        f"ratio {ratio:.2f} <= {TARGET_RATIO:g} {load.ok(ratio <= TARGET_RATIO)}"
    )
    print(
        f"RESULT dashboard relationships={big} queries={queries} queries_at_100={queries_small} "
        f"p95_ms={p95:.0f} bare_p95_ms={bare_p95:.0f} ratio={ratio:.2f}"
    )


if __name__ == "__main__":
    main()
