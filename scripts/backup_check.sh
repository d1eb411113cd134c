#!/usr/bin/env bash
# Back up the database and prove the backup restores: pg_dump (custom format), pg_restore
# into a new database, then the row count of every table compared between the two.
#
#   scripts/backup_check.sh [DATABASE_URL] [DUMP_FILE]
#
# The URL defaults to $DATABASE_URL (postgres://user:password@host:port/name); the dump is
# kept at DUMP_FILE when given (that is the backup), else in a temporary file. The restored
# copy is dropped afterwards unless KEEP_RESTORED=1. Exit status 0 only when every count
# matches. docs/operations.md has the restore procedure itself.
set -euo pipefail

source_url="${1:-${DATABASE_URL:?set DATABASE_URL or pass the database URL}}"
dump="${2:-}"
if [[ -z "$dump" ]]; then
    dump="$(mktemp --suffix=.dump)"
    trap 'rm -f "$dump"' EXIT
fi

base="${source_url%%\?*}"          # without ?options
name="${base##*/}"
restored="${name}_restore_check_$(date +%Y%m%d%H%M%S)"
restored_url="${base%/*}/$restored"

echo "Dumping $name to $dump"
pg_dump --format=custom --no-owner --no-privileges --file "$dump" "$source_url"

echo "Restoring into a new database $restored"
psql --quiet --no-psqlrc "$source_url" -c "CREATE DATABASE \"$restored\""
cleanup_restored() {
    if [[ "${KEEP_RESTORED:-0}" != 1 ]]; then
        psql --quiet --no-psqlrc "$source_url" -c "DROP DATABASE IF EXISTS \"$restored\"" >/dev/null
    fi
}
trap 'cleanup_restored; [[ -z "${2:-}" ]] && rm -f "$dump"' EXIT
pg_restore --no-owner --no-privileges --exit-on-error --dbname "$restored_url" "$dump"

counts() {
    psql --no-psqlrc -tA "$1" <<'SQL'
SELECT format('SELECT %L || '' '' || count(*) FROM %I.%I;', table_name, table_schema, table_name)
FROM information_schema.tables
WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
ORDER BY table_name
\gexec
SQL
}

original="$(counts "$source_url")"
copy="$(counts "$restored_url")"
tables="$(wc -l <<<"$original")"
if [[ "$original" == "$copy" ]]; then
    rows="$(awk '{s += $2} END {print s}' <<<"$original")"
    echo "OK: $tables tables and $rows rows, the same in the restored copy"
else
    echo "MISMATCH between $name and its restored copy:" >&2
    diff <(echo "$original") <(echo "$copy") >&2 || true
    exit 1
fi
