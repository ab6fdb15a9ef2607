"""A database of the bench's own: benchmarks flush what they run on, so never the developer's."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit


def bench_database(*, prefix: str, sqlite_caveat: str) -> str:
    """Point DATABASE_URL at a database of the bench's own, before Django reads it: on
    PostgreSQL `<name>_bench` (created if missing), otherwise a temporary SQLite file. Returns a
    line saying which, with `sqlite_caveat` for SQLite."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg
        from psycopg import sql

        parts = urlsplit(url)
        name = parts.path.lstrip("/") + "_bench"
        maintenance = parts._replace(path="/postgres").geturl()
        with psycopg.connect(maintenance, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        os.environ["DATABASE_URL"] = parts._replace(path=f"/{name}").geturl()
        return f"PostgreSQL, database {name} (created if missing, flushed)"
    path = Path(tempfile.mkdtemp(prefix=prefix)) / "bench.sqlite3"
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    return f"SQLite at {path} ({sqlite_caveat})"
