"""Backups restore: scripts/backup.sh, restore.sh and restore_drill.sh against real PostgreSQL.
Skipped on a laptop without PostgreSQL and its client tools; failed under CI."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from accounts.models import User
from goals.models import PrivateNote
from programs.models import Program
from tests.conftest import require_service
from tests.factories import CheckInFactory, PrivateNoteFactory, ProgramFactory

pytestmark = pytest.mark.django_db(transaction=True)

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = REPO_ROOT / "scripts"
ROW_COUNTS = """
    SELECT table_name,
           (xpath('/row/c/text()', query_to_xml(
             format('SELECT count(*) AS c FROM public.%I', table_name), false, true, '')))[1]::text
    FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
    ORDER BY table_name"""


def database_url(name: str) -> str:
    database = connection.settings_dict
    password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
    host = database["HOST"] or "127.0.0.1"
    return f"postgres://{database['USER']}{password}@{host}:{database['PORT'] or 5432}/{name}"


def row_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute(ROW_COUNTS)
        return {table: int(count) for table, count in cursor.fetchall()}


def script(name: str, *args: str, url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SCRIPTS / name), *args],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def live_url(transactional_db) -> str:
    require_service(
        connection.vendor == "postgresql", "backups are of PostgreSQL (set DATABASE_URL to it)"
    )
    for tool in ("pg_dump", "pg_restore", "psql"):
        require_service(
            shutil.which(tool) is not None, f"{tool} is missing (apt-get install postgresql-client)"
        )
    return database_url(connection.settings_dict["NAME"])


@pytest.fixture
def fresh_database(live_url) -> Iterator[str]:
    name = f"mentorship_restore_{uuid.uuid4().hex[:10]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield database_url(name)
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def organisation(live_url) -> PrivateNote:
    """A program with a relationship, a check-in and a private note: rows in most tables."""
    note = PrivateNoteFactory(text="Ask about the stretch assignment.")
    CheckInFactory(relationship=note.relationship)
    ProgramFactory(name="Sales Mentoring")
    return note


def test_a_backup_restores_into_a_fresh_database_with_every_row(
    live_url, fresh_database, organisation, tmp_path
):
    dump = tmp_path / "mentorship.dump"

    backup = script("backup.sh", str(dump), url=live_url)
    restore = script("restore.sh", "--yes", str(dump), url=fresh_database)

    assert backup.returncode == 0, backup.stderr
    assert restore.returncode == 0, restore.stderr
    counts = row_counts(fresh_database)
    assert counts == row_counts(live_url)
    assert counts["accounts_user"] == User.objects.count() > 0
    with psycopg.connect(fresh_database) as conn:
        text = conn.execute("SELECT text FROM goals_privatenote").fetchone()
    assert text == ("Ask about the stretch assignment.",)


def test_a_restore_brings_back_what_was_deleted_after_the_backup(live_url, organisation, tmp_path):
    dump = tmp_path / "mentorship.dump"
    assert script("backup.sh", str(dump), url=live_url).returncode == 0
    before = row_counts(live_url)

    Program.objects.all().delete()  # the accident
    unconfirmed = script("restore.sh", str(dump), url=live_url)
    assert unconfirmed.returncode == 2  # says what it would do, does nothing
    assert not Program.objects.exists()

    restored = script("restore.sh", "--yes", str(dump), url=live_url)

    assert restored.returncode == 0, restored.stderr
    assert row_counts(live_url) == before
    assert sorted(Program.objects.values_list("name", flat=True)) == sorted(
        [organisation.relationship.cohort.program.name, "Sales Mentoring"]
    )


def test_the_restore_drill_restores_a_backup_beside_the_live_database(
    live_url, organisation, tmp_path
):
    dump = tmp_path / "mentorship.dump"
    assert script("backup.sh", str(dump), url=live_url).returncode == 0

    drill = script("restore_drill.sh", "--compare", str(dump), url=live_url)

    assert drill.returncode == 0, drill.stderr
    assert f"accounts_user {User.objects.count()}" in drill.stdout
    assert "every table has as many rows as the live database" in drill.stdout
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_database WHERE datname LIKE '%%restore_drill%%'")
        assert cursor.fetchone()[0] == 0  # the scratch database is gone


def test_the_drill_fails_when_the_backup_does_not_match(live_url, organisation, tmp_path):
    dump = tmp_path / "mentorship.dump"
    assert script("backup.sh", str(dump), url=live_url).returncode == 0
    ProgramFactory(name="Created after the backup")

    drill = script("restore_drill.sh", "--compare", str(dump), url=live_url)

    assert drill.returncode == 1
    assert "programs_program" in drill.stderr


def test_restore_refuses_a_file_that_is_not_a_backup_and_changes_nothing(
    live_url, organisation, tmp_path
):
    not_a_dump = tmp_path / "notes.txt"
    not_a_dump.write_text("these are not the rows you are looking for\n")
    before = row_counts(live_url)

    result = script("restore.sh", "--yes", str(not_a_dump), url=live_url)

    assert result.returncode != 0
    assert "not a pg_dump custom-format file" in result.stderr
    assert row_counts(live_url) == before
