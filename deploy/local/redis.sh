#!/usr/bin/env bash
# Throwaway redis-server on 127.0.0.1, no persistence.
#   redis.sh start | stop [--purge] | status
# Env: REDIS_PORT (16379), MLOPS_LOCAL_DIR.
set -euo pipefail
LOG_TAG=redis
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REDIS_PORT="${REDIS_PORT:-16379}"
REDIS_START_TIMEOUT="${REDIS_START_TIMEOUT:-30}"
DIR="$MLOPS_LOCAL_DIR/redis"
PIDFILE="$DIR/redis.pid"
LOGFILE="$DIR/redis.log"

pong() { [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }

fail_with_log() {
  log "$1"
  if [[ -f $LOGFILE ]]; then
    log "---- last 40 lines of $LOGFILE ----"
    tail -n 40 "$LOGFILE" >&2
  fi
  exit 1
}

do_start() {
  apt_install_if_missing redis-server redis-server
  command -v redis-cli >/dev/null || apt_install_if_missing redis-cli redis-tools
  if pid_alive "$PIDFILE"; then
    wait_for 10 "redis ping" pong || fail_with_log "redis pid $(<"$PIDFILE") alive but no PONG on port $REDIS_PORT"
    log "already running (pid $(<"$PIDFILE")) on 127.0.0.1:$REDIS_PORT"; return 0
  fi
  rm -f "$PIDFILE"
  port_free "$REDIS_PORT" || die "port $REDIS_PORT is already in use by another process"
  mkdir -p "$DIR"
  log "starting on 127.0.0.1:$REDIS_PORT, log: $LOGFILE"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes \
    --pidfile "$PIDFILE" --dir "$DIR" --logfile "$LOGFILE" \
    --save '' --appendonly no --maxmemory 256mb \
    || fail_with_log "redis-server failed to start"
  wait_for "$REDIS_START_TIMEOUT" "redis ping" pong \
    || fail_with_log "redis did not answer PING on port $REDIS_PORT within ${REDIS_START_TIMEOUT}s"
  log "ready on 127.0.0.1:$REDIS_PORT (pid $(cat "$PIDFILE" 2>/dev/null))"
}

do_stop() {
  kill_pidfile "$PIDFILE" 15
  if [[ ${1:-} == --purge ]]; then
    log "purging $DIR"; rm -rf "$DIR"
  fi
  log "stopped"
}

do_status() {
  if pid_alive "$PIDFILE"; then echo "redis: running (pid $(<"$PIDFILE")) on 127.0.0.1:$REDIS_PORT"; return 0; fi
  echo "redis: not running"; return 1
}

dispatch "$@"
