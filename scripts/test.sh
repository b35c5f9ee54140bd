#!/usr/bin/env bash
# The whole test suite: unit tests (*Test) and database tests (*IT) against real PostgreSQL +
# pgvector. One cluster serves the whole run: Testcontainers where a Docker engine answers,
# otherwise one started here from the installed binaries, and stopped when the run ends.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/install-prerequisites.sh"

export CARECONTEXT_TEST_PG_HOME="$ROOT/target/test-postgres"
export CARECONTEXT_TEST_PG_OWNER=script
pg_ctl_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n | tail -n1; }
stop_cluster() {
  local data="$CARECONTEXT_TEST_PG_HOME/pgdata"
  [ -f "$data/postmaster.pid" ] || return 0
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$(pg_ctl_bin)/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
  else
    "$(pg_ctl_bin)/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
  fi
}
# A fresh cluster for every run; whatever a killed earlier run left is stopped and removed first.
stop_cluster
rm -rf "$CARECONTEXT_TEST_PG_HOME"
mkdir -p "$CARECONTEXT_TEST_PG_HOME"
trap stop_cluster EXIT

mvn -B verify "$@"
