"""Bulk actions in the background: publishing a run of many pairs, and emailing invitations to
everyone a file imported.

    python bench/bulk_actions.py [--pairs 1000] [--people 1000] [--worker]

Runs in a throwaway test database (SQLite, or PostgreSQL when DATABASE_URL points there). For
each action it times the coordinator's POST (which only queues a job), then the job as a worker
runs it, with the SQL queries of each. Without --worker the job runs in this process and the
emails it queues are counted, not sent. With --worker (PostgreSQL and CELERY_BROKER_URL=redis
needed, with a Redis database of its own: the worker listens on the default queue) the POST
queues a real task, a `celery worker` started here publishes and sends every email, and "done"
is when every relationship exists and every email is sent.

The last lines are machine-readable:
RESULT bulk_publish pairs=<n> request_ms=<ms> request_queries=<n> task_s=<s> task_queries=<n> ...
RESULT bulk_invite people=<n> request_ms=<ms> request_queries=<n> task_s=<s> task_queries=<n> ...
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mentorship.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402


def build_run(pairs: int):
    """A matching cohort whose finished run has `pairs` accepted pairs, written in bulk."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from matching.models import MatchRun, Proposal
    from programs.models import Cohort, Enrolment
    from tests.factories import CohortFactory, UserFactory

    coordinator = UserFactory.create(email="bench.coordinator@example.org")
    cohort = CohortFactory.create(
        program__coordinators=[coordinator], status=Cohort.Status.MATCHING
    )
    password = make_password(None)
    users = User.objects.bulk_create(
        User(
            email=f"{role}{i}@bench.example.org",
            display_name=f"{role.title()} {i}",
            time_zone="Europe/London",
            password=password,
        )
        for i in range(pairs)
        for role in ("mentor", "mentee")
    )
    enrolments = Enrolment.objects.bulk_create(
        Enrolment(
            cohort=cohort,
            user=user,
            role=Enrolment.Role.MENTOR if n % 2 == 0 else Enrolment.Role.MENTEE,
            status=Enrolment.Status.APPROVED,
            capacity=1 if n % 2 == 0 else None,
        )
        for n, user in enumerate(users)
    )
    run = MatchRun.objects.create(
        cohort=cohort, created_by=coordinator, status=MatchRun.Status.SUCCEEDED
    )
    Proposal.objects.bulk_create(
        Proposal(
            run=run,
            mentor=enrolments[2 * i],
            mentee=enrolments[2 * i + 1],
            score=0.8,
            explanation="Mentor has expertise in Negotiation, which the mentee wants.",
            decision=Proposal.Decision.ACCEPTED,
        )
        for i in range(pairs)
    )
    return coordinator, run


def build_import(people: int):
    """A cohort with a file of `people` new participants, imported (nobody has a password)."""
    from programs import services
    from tests.factories import CohortFactory, UserFactory

    coordinator = UserFactory.create(email="bench.importer@example.org")
    cohort = CohortFactory.create(program__coordinators=[coordinator])
    lines = ["Email,Role,Name"] + [
        f"invitee{i}@bench.example.org,{'mentor' if i % 3 == 0 else 'mentee'},Invitee {i}"
        for i in range(people)
    ]
    participant_import = services.participant_import_create(
        cohort=cohort,
        uploaded_by=coordinator,
        filename="people.csv",
        content="\n".join(lines).encode(),
    )
    services.participant_import_run(participant_import=participant_import)
    return coordinator, participant_import


def timed_post(user, url: str, data: dict[str, str] | None = None) -> tuple[float, int, str]:
    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.post(url, data or {})
        elapsed = time.perf_counter() - started
    assert response.status_code == 302, response.status_code
    return elapsed * 1000, len(queries), response["Location"]


def run_in_process(execute, job_id: int) -> tuple[float, int, int]:
    """Run the job here as its worker would; its emails are queued, counted, not sent."""
    from notifications.tasks import email_send_task

    sent: list[int] = []
    with (
        mock.patch.object(email_send_task, "delay", lambda email_id: sent.append(email_id)),
        CaptureQueriesContext(connection) as queries,
    ):
        started = time.perf_counter()
        job = execute(job_id=job_id)
        elapsed = time.perf_counter() - started
    assert job.status == "done", job.error
    return elapsed, len(queries), len(sent)


def worker() -> subprocess.Popen[str]:
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mentorship.settings.base",
        "EMAIL_URL": "dummymail://",
        "DATABASE_URL": (
            f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@"
            f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
        ),
    }
    command = [sys.executable, "-m", "celery", "-A", "mentorship", "worker", "--concurrency=2"]
    command += ["--loglevel", "WARNING", "--without-gossip", "--without-mingle"]
    return subprocess.Popen(  # noqa: S603 (our own fixed command)
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def wait_until(condition, limit: float = 900) -> float:
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > limit:
            raise TimeoutError
        time.sleep(0.2)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--worker", action="store_true", help="a real worker on Redis")
    args = parser.parse_args()

    from mentorship.celery import app

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    process = None
    try:
        from matching.models import Relationship
        from matching.services import match_run_publish_execute
        from notifications.models import OutboundEmail
        from programs.models import BulkJob
        from programs.services import invitation_job_execute

        if args.worker:
            # The job queues its emails on the default queue, so the worker listens there: give
            # the bench a Redis database of its own (CELERY_BROKER_URL=redis://.../<n>).
            app.conf.update(task_always_eager=False)
            process = worker()
            time.sleep(3)  # the worker connects
        queued: list[int] = []
        hold = mock.patch(
            "celery.app.task.Task.delay", lambda self, **kwargs: queued.append(kwargs["job_id"])
        )

        coordinator, run = build_run(args.pairs)
        url = reverse("matching:run_publish", args=[run.pk])
        if args.worker:
            started = time.perf_counter()
            request_ms, request_queries, _ = timed_post(coordinator, url)
            job = BulkJob.objects.get(kind="publish")

            def published() -> bool:
                job.refresh_from_db()
                return job.is_finished

            task_s = wait_until(published)
            assert job.status == "done", job.error
            emails_done_s = wait_until(
                lambda: not OutboundEmail.objects.exclude(status="sent").exists()
            )
            done_s = time.perf_counter() - started
            task_queries = -1  # counted in-process only
            emails = OutboundEmail.objects.filter(status="sent").count()
        else:
            with hold:
                request_ms, request_queries, _ = timed_post(coordinator, url)
            task_s, task_queries, emails = run_in_process(match_run_publish_execute, queued[-1])
            done_s = emails_done_s = 0.0
        relationships = Relationship.objects.filter(source_run=run).count()
        assert relationships == args.pairs, relationships
        where = "a celery worker" if args.worker else "in-process"
        print(f"database            {connection.vendor}; the job runs {where}")
        print(f"publish {args.pairs} pairs: POST {request_ms:.0f} ms ({request_queries} queries)")
        print(f"  job               {task_s:.2f} s, {task_queries} queries, {emails} emails")
        if args.worker:
            print(f"  all emails sent   {emails_done_s:.2f} s later; {done_s:.2f} s from the POST")
        publish = (
            f"RESULT bulk_publish pairs={args.pairs} request_ms={request_ms:.0f} "
            f"request_queries={request_queries} task_s={task_s:.2f} task_queries={task_queries} "
            f"emails={emails} done_s={done_s:.2f}"
        )

        OutboundEmail.objects.all().delete()
        queued.clear()
        coordinator, participant_import = build_import(args.people)
        url = reverse("programs:import_run", args=[participant_import.pk])
        if args.worker:
            started = time.perf_counter()
            request_ms, request_queries, _ = timed_post(coordinator, url, {"action": "invite"})
            job = BulkJob.objects.get(kind="invite")
            task_s = wait_until(published)
            assert job.status == "done", job.error
            emails_done_s = wait_until(
                lambda: not OutboundEmail.objects.exclude(status="sent").exists()
            )
            done_s = time.perf_counter() - started
            emails = OutboundEmail.objects.filter(status="sent").count()
        else:
            with hold:
                request_ms, request_queries, _ = timed_post(coordinator, url, {"action": "invite"})
            task_s, task_queries, emails = run_in_process(invitation_job_execute, queued[-1])
        print(f"invite {args.people} people: POST {request_ms:.0f} ms ({request_queries} queries)")
        print(f"  job               {task_s:.2f} s, {task_queries} queries, {emails} emails")
        if args.worker:
            print(f"  all emails sent   {emails_done_s:.2f} s later; {done_s:.2f} s from the POST")
        print(publish)
        print(
            f"RESULT bulk_invite people={args.people} request_ms={request_ms:.0f} "
            f"request_queries={request_queries} task_s={task_s:.2f} task_queries={task_queries} "
            f"emails={emails} done_s={done_s:.2f}"
        )
    finally:
        if process is not None:
            process.terminate()  # our own child, by its pid
            process.wait(timeout=30)
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
