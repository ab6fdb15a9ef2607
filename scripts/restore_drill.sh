#!/usr/bin/env bash
# Restore drill: prove a backup file restores, without touching the live database.
#
#   scripts/restore_drill.sh [--compare] FILE
#
# Restores FILE (scripts/restore.sh) into a scratch database beside the live one (DATABASE_URL,
# or the compose stack's postgres service), prints every table with its row count, and drops the
# scratch database. With --compare it also counts the live database's tables and fails on any
# difference: use it right after a backup while nothing writes (e.g. a quiet night), or on a copy.
# Run it after changing anything about backups, and on a schedule: a backup nobody has restored
# is a hope, not a backup.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "restore drill: $*" >&2; exit 1; }

compare=false
if [ "${1:-}" = "--compare" ]; then
  compare=true
  shift
fi
file="${1:-}"
[ -n "$file" ] || die "usage: scripts/restore_drill.sh [--compare] FILE"

if [ -n "${DATABASE_URL:-}" ]; then
  command -v psql >/dev/null || die "psql is missing (apt-get install postgresql-client)"
  run() { "$@"; }
  url="$DATABASE_URL"
else
  run() { ${COMPOSE:-docker compose} exec -T postgres "$@"; }
  url="postgresql://mentorship@/mentorship"
fi

# The scratch database's URL: the live one's with another database name (query string kept).
base="${url%%\?*}"
query="${url#"$base"}"
live_name="${base##*/}"
scratch_name="${live_name:0:40}_restore_drill_$$"
scratch_url="${base%/*}/$scratch_name$query"

counts() {
  # Exact row counts of every table, one "table rows" line each, in name order.
  run psql --no-psqlrc --quiet --tuples-only --no-align --field-separator=' ' --dbname="$1" -c "
    SELECT table_name,
           (xpath('/row/c/text()', query_to_xml(
             format('SELECT count(*) AS c FROM public.%I', table_name), false, true, '')))[1]::text
    FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
    ORDER BY table_name"
}

run psql --no-psqlrc --quiet --dbname="$url" -c "CREATE DATABASE \"$scratch_name\"" >/dev/null
trap 'run psql --no-psqlrc --quiet --dbname="$url" -c "DROP DATABASE IF EXISTS \"$scratch_name\"" >/dev/null' EXIT

if [ -n "${DATABASE_URL:-}" ]; then
  DATABASE_URL="$scratch_url" scripts/restore.sh --yes "$file" >/dev/null
else
  # restore.sh's compose mode restores the live database: restore into the scratch one by hand.
  {
    echo "SET client_min_messages = warning; DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;"
    run pg_restore --no-owner --no-privileges --file=- <"$file"
  } | run psql --quiet --no-psqlrc --single-transaction --set=ON_ERROR_STOP=1 \
    --dbname="$scratch_url" >/dev/null
fi

restored="$(counts "$scratch_url")"
[ -n "$restored" ] || die "the restored database has no tables"
grep -q '^django_migrations [1-9]' <<<"$restored" || die "the restored database has no migrations recorded"
echo "restore drill: $file restores; tables and rows:"
echo "$restored" | sed 's/^/  /'

if $compare; then
  if ! differences="$(diff <(counts "$url") <(echo "$restored"))"; then
    echo "restore drill: the restored database differs from the live one (< live, > restored):" >&2
    echo "$differences" >&2
    exit 1
  fi
  echo "restore drill: every table has as many rows as the live database"
fi
