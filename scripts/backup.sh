#!/usr/bin/env bash
# Back up Mentorship's PostgreSQL database into one file (pg_dump's custom format: compressed,
# restored with scripts/restore.sh, tables selectable with pg_restore).
#
#   scripts/backup.sh [FILE]
#
# The database: DATABASE_URL when it is set (the tools on this machine connect to it), otherwise
# the compose stack's `postgres` service (the tools inside that container; run from anywhere in
# the checkout, with the stack up). FILE defaults to
# $BACKUP_DIR/mentorship-<UTC time>.dump, BACKUP_DIR to ~/mentorship-backups: outside the checkout,
# so a dump of people's data never lands in git or in the Docker image.
#
# pg_dump reads one consistent snapshot while the site keeps running; nothing needs stopping.
# Redis needs no backup: the database is the truth (queued work is found again by the relay).
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "backup: $*" >&2; exit 1; }

if [ -n "${DATABASE_URL:-}" ]; then
  case "$DATABASE_URL" in postgres://* | postgresql://*) ;; *) die "DATABASE_URL is not PostgreSQL" ;; esac
  command -v pg_dump >/dev/null || die "pg_dump is missing (apt-get install postgresql-client)"
  run() { "$@"; }
  url="$DATABASE_URL"
  where="DATABASE_URL (…@${DATABASE_URL#*@})"
else
  run() { ${COMPOSE:-docker compose} exec -T postgres "$@"; }
  url="postgresql://mentorship@/mentorship"
  where="the compose stack's postgres service"
fi

file="${1:-${BACKUP_DIR:-$HOME/mentorship-backups}/mentorship-$(date -u +%Y%m%dT%H%M%SZ).dump}"
mkdir -p "$(dirname "$file")"
partial="$file.partial"
trap 'rm -f "$partial"' EXIT

echo "backup: dumping $where"
# --no-owner/--no-privileges: restorable by another role on another server. Written to a
# .partial file first so a failed dump never looks like a good one.
run pg_dump --format=custom --no-owner --no-privileges --dbname="$url" >"$partial"
[ -s "$partial" ] || die "pg_dump wrote nothing"
umask 077
mv "$partial" "$file"
chmod 600 "$file"
trap - EXIT
echo "backup: wrote $file ($(du -h "$file" | cut -f1))"
