#!/usr/bin/env bash
# Drops per-test databases no one is connected to (left by interrupted runs); keeps templates.
set -euo pipefail
url="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
psql "$url" -XAtq -c "select datname from pg_database d
    where datname like 'ch\_test\_%'
      and not exists (select 1 from pg_stat_activity a where a.datname = d.datname)" 2>/dev/null |
while read -r db; do
    psql "$url" -XAtq -c "drop database if exists \"$db\"" >/dev/null 2>&1 || true
done
