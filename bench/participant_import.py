"""Import throughput: read, validate and import a synthetic participant file.

    python bench/participant_import.py [--rows 5000]

Runs in a throwaway test database (SQLite, or PostgreSQL when DATABASE_URL points there) and
prints the time of each stage; the last line is machine-readable:
RESULT participant_import rows=<n> read_s=<s> validate_s=<s> import_s=<s> queries=<n>
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mentorship.settings.test")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

TERMS = [f"Competency {i}" for i in range(300)]
DEPARTMENTS = ["Engineering", "Sales", "Finance", "Product", "Operations", "Legal", "Data"]


def build_csv(rows: int) -> bytes:
    rng = random.Random(7)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(
        [
            "E-mail Address",
            "Full Name",
            "Participant Type",
            "Dept.",
            "Grade",
            "Max mentees",
            "Skills to offer",
            "Wants to develop",
            "Languages",
            "Manager",
        ]
    )
    for i in range(rows):
        mentor = i % 3 == 0
        writer.writerow(
            [
                f"person{i}@bench.example.org",
                f"Person {i}",
                "Mentor" if mentor else "Mentee",
                rng.choice(DEPARTMENTS),
                rng.randint(5, 8) if mentor else rng.randint(1, 4),
                rng.randint(1, 4) if mentor else "",
                ", ".join(rng.sample(TERMS, 3)) if mentor else "",
                "" if mentor else ", ".join(rng.sample(TERMS, 3)),
                "English",
                f"person{i - i % 10}@bench.example.org" if i % 10 else "",
            ]
        )
    return out.getvalue().encode("utf-8-sig")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        from accounts.models import User
        from programs import imports, services
        from programs.models import Cohort, Enrolment
        from tests.factories import CohortFactory, UserFactory

        # create() saves and returns the model instance (the factories do not declare their
        # model type, so calling the class reads to mypy as a factory instance).
        coordinator: User = UserFactory.create(email="bench.coordinator@example.org")
        cohort: Cohort = CohortFactory.create(program__coordinators=[coordinator])
        content = build_csv(args.rows)

        started = time.perf_counter()
        participant_import = services.participant_import_create(
            cohort=cohort, uploaded_by=coordinator, filename="people.csv", content=content
        )
        read_s = time.perf_counter() - started

        started = time.perf_counter()
        preview = services.participant_import_preview(participant_import=participant_import)
        validate_s = time.perf_counter() - started
        assert preview.ok, preview.errors[:3]

        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            services.participant_import_run(participant_import=participant_import)
        import_s = time.perf_counter() - started
        assert Enrolment.objects.filter(cohort=cohort).count() == args.rows
        del imports
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)

    print(f"database         {connection.vendor}")
    print(f"rows             {args.rows}")
    print(f"read + store     {read_s:.2f} s")
    print(f"validate         {validate_s:.2f} s")
    print(
        f"import           {import_s:.2f} s ({len(queries)} queries, "
        f"{len(queries) / args.rows:.1f} per row)"
    )
    print(
        f"RESULT participant_import rows={args.rows} read_s={read_s:.2f} "
        f"validate_s={validate_s:.2f} import_s={import_s:.2f} queries={len(queries)}"
    )


if __name__ == "__main__":
    main()
