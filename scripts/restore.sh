#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh, replacing what the database holds.
#
#   scripts/restore.sh --yes FILE
#
# The database: DATABASE_URL when it is set, otherwise the compose stack's `postgres` service
# (as in backup.sh). Stop everything that writes first (`docker compose stop web worker beat`),
# restore, then start them again: `web` runs the migrations of the code it ships on start.
#
# The database becomes exactly the backup: its `public` schema (every table Mentorship has) is
# dropped and rebuilt from the file, so tables that a later version added go too and `migrate`
# starts from the backup's state. All of it runs in one transaction: it succeeds whole or changes
# nothing. Without --yes it only checks the file and says what it would replace.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "restore: $*" >&2; exit 1; }

confirmed=false
if [ "${1:-}" = "--yes" ]; then
  confirmed=true
  shift
fi
file="${1:-}"
[ -n "$file" ] || die "usage: scripts/restore.sh --yes FILE"
[ -s "$file" ] || die "$file is missing or empty"

if [ -n "${DATABASE_URL:-}" ]; then
  case "$DATABASE_URL" in postgres://* | postgresql://*) ;; *) die "DATABASE_URL is not PostgreSQL" ;; esac
  for tool in pg_restore psql; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install postgresql-client)"
  done
  run() { "$@"; }
  url="$DATABASE_URL"
  where="DATABASE_URL (…@${DATABASE_URL#*@})"
else
  run() { ${COMPOSE:-docker compose} exec -T postgres "$@"; }
  url="postgresql://mentorship@/mentorship"
  where="the compose stack's postgres service"
fi

# A file that is not a custom-format dump fails here, before anything is touched.
run pg_restore --list <"$file" >/dev/null || die "$file is not a pg_dump custom-format file"

if ! $confirmed; then
  echo "restore: would replace every table of $where with the contents of $file."
  echo "restore: stop web, worker and beat first, then run again with --yes."
  exit 2
fi

echo "restore: replacing the database of $where from $file"
{
  echo "SET client_min_messages = warning; DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;"
  run pg_restore --no-owner --no-privileges --file=- <"$file"
} | run psql --quiet --no-psqlrc --single-transaction --set=ON_ERROR_STOP=1 --dbname="$url" >/dev/null
echo "restore: done; start web (it migrates), worker and beat"
