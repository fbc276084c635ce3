#!/usr/bin/env bash
# Throwaway PostgreSQL cluster on 127.0.0.1 with database/user "mlops".
#   postgres.sh start | stop [--purge] | status
# Env: PG_PORT (15432), MLOPS_LOCAL_DIR.
# Postgres refuses to run as root, so as root everything runs as the
# "postgres" system user via runuser.
set -euo pipefail
LOG_TAG=postgres
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_PORT="${PG_PORT:-15432}"
PG_START_TIMEOUT="${PG_START_TIMEOUT:-60}"
DIR="$MLOPS_LOCAL_DIR/postgres"
DATA="$DIR/data"
SOCK="$DIR/run"
LOGFILE="$DIR/postgres.log"

# Newest /usr/lib/postgresql/<ver>/bin that has a server.
find_bindir() {
  local d
  # shellcheck disable=SC2012
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
  [[ -n $d && -x $d/pg_ctl && -x $d/initdb ]] && echo "$d"
}

ensure_binaries() {
  BIN=$(find_bindir) || { apt_install_if_missing /nonexistent/pg_ctl postgresql; BIN=$(find_bindir) \
    || die "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin after install"; }
}

# as_pg <cmd...>: run as the postgres user when we are root.
as_pg() {
  if (( EUID == 0 )); then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

ensure_user() {
  (( EUID == 0 )) || return 0
  if ! id postgres >/dev/null 2>&1; then
    log "creating system user postgres"
    useradd --system --user-group --no-create-home --home-dir "$DIR" --shell /usr/sbin/nologin postgres \
      || die "could not create postgres user"
  fi
}

running() { [[ -n ${BIN:-} && -f $DATA/PG_VERSION ]] && as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

fail_with_log() {
  log "$1"
  if [[ -f $LOGFILE ]]; then
    log "---- last 40 lines of $LOGFILE ----"
    tail -n 40 "$LOGFILE" >&2
  fi
  exit 1
}

psql_admin() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres "$@"; }

ensure_db() {
  if [[ $(psql_admin -tAc "select 1 from pg_roles where rolname='mlops'") != 1 ]]; then
    log "creating role mlops"
    # SUPERUSER: throwaway dev/test cluster; tests may create extensions/schemas freely.
    psql_admin -c "create role mlops login superuser password 'mlops'" || die "create role failed"
  fi
  if [[ $(psql_admin -tAc "select 1 from pg_database where datname='mlops'") != 1 ]]; then
    log "creating database mlops"
    psql_admin -c "create database mlops owner mlops" || die "create database failed"
  fi
}

do_start() {
  ensure_binaries
  ensure_user
  if running; then
    wait_for 10 "pg_isready" "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" \
      || fail_with_log "postgres is running but not accepting connections on port $PG_PORT"
    ensure_db
    log "already running on 127.0.0.1:$PG_PORT"; return 0
  fi
  port_free "$PG_PORT" || die "port $PG_PORT is already in use by another process"
  mkdir -p "$DIR" "$SOCK"
  (( EUID != 0 )) || chown -R postgres: "$DIR"
  if [[ ! -f $DATA/PG_VERSION ]]; then
    log "initdb $DATA ($BIN)"
    rm -rf "$DATA"
    as_pg "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C --no-sync >>"$LOGFILE" 2>&1 \
      || fail_with_log "initdb failed"
    echo "include_if_exists = 'mlops.conf'" >>"$DATA/postgresql.conf"
  fi
  # Regenerated every start so port/dir changes apply. Durability is
  # irrelevant for a throwaway cluster, so trade it for speed.
  cat >"$DATA/mlops.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$SOCK'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
  cat >"$DATA/pg_hba.conf" <<'CONF'
local all all              trust
host  all all 127.0.0.1/32 trust
host  all all ::1/128      trust
CONF
  touch "$LOGFILE"
  (( EUID != 0 )) || chown -R postgres: "$DIR"
  log "starting on 127.0.0.1:$PG_PORT, log: $LOGFILE"
  as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOGFILE" -w -t "$PG_START_TIMEOUT" start >/dev/null \
    || fail_with_log "pg_ctl start failed"
  wait_for "$PG_START_TIMEOUT" "pg_isready" "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" \
    || fail_with_log "postgres did not become ready on port $PG_PORT"
  ensure_db
  log "ready on 127.0.0.1:$PG_PORT"
}

do_stop() {
  BIN=$(find_bindir) || true
  if running; then
    as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >/dev/null || die "pg_ctl stop failed"
  fi
  if [[ ${1:-} == --purge ]]; then
    log "purging $DIR"; rm -rf "$DIR"
  fi
  log "stopped"
}

do_status() {
  BIN=$(find_bindir) || true
  if running; then echo "postgres: running on 127.0.0.1:$PG_PORT"; return 0; fi
  echo "postgres: not running"; return 1
}

dispatch "$@"
