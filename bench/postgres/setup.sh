#!/usr/bin/env bash
# Starts this machine's PostgreSQL (installing Debian's if missing) and loads the baseline
# of `tally bench --postgres URL` (schema.sql: the checks of a Tally transfer and DvP).
# Prints the URL to pass. 10,000 accounts of 1,000 owners (as `tally bench`'s 1,000
# senders); DB names the database (tally_bench).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
accounts=10000
owners=1000
db="${DB:-tally_bench}"
if [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version="$(ls /usr/lib/postgresql | sort -n | tail -1)"
pg_lsclusters -h | grep -q "^$version main" || pg_createcluster "$version" main >/dev/null
pg_ctlcluster "$version" main status >/dev/null 2>&1 || pg_ctlcluster "$version" main start
me="$(whoami)"
runuser -u postgres -- psql -qc \
  "DO \$\$BEGIN CREATE ROLE \"$me\" SUPERUSER LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END\$\$;"
runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -c "SET client_min_messages=warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db OWNER \"$me\""
PGOPTIONS="-c client_min_messages=warning" psql -q -d "$db" -h /var/run/postgresql -v ON_ERROR_STOP=1 \
  -v accounts="$accounts" -v owners="$owners" -f "$here/schema.sql" >/dev/null
echo "postgresql:///$db?host=/var/run/postgresql"
