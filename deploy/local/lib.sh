# shellcheck shell=bash
# Shared helpers for deploy/local/*.sh. Source it; do not execute it.
# shellcheck disable=SC2034  # variables below are used by the sourcing scripts
set -euo pipefail

MLOPS_LOCAL_DIR="${MLOPS_LOCAL_DIR:-/tmp/mlops-local}"
MLOPS_CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/mlops"
LOCAL_SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log()  { printf '[%s] [%s] %s\n' "$(date +%H:%M:%S)" "${LOG_TAG:-local}" "$*" >&2; }
die()  { log "ERROR: $*"; exit 1; }

# wait_for <timeout-seconds> <description> <command...>
# Polls the command every 0.5s until it succeeds; returns 1 on timeout.
wait_for() {
  local timeout=$1 what=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if (( SECONDS >= deadline )); then
      log "timed out after ${timeout}s waiting for ${what}"
      return 1
    fi
    sleep 0.5
  done
}

# pid_alive <pidfile>: true if the pidfile names a live process.
pid_alive() {
  local pid
  [[ -s $1 ]] || return 1
  pid=$(<"$1")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

# kill_pidfile <pidfile> [grace-seconds]: TERM, wait, then KILL. Removes pidfile. The log lines
# name what stops by the pid file's name (registry.pid -> registry).
kill_pidfile() {
  local pidfile=$1 grace=${2:-20} pid what
  what=$(basename "$pidfile" .pid)
  if pid_alive "$pidfile"; then
    pid=$(<"$pidfile")
    log "stopping $what (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_for "$grace" "pid $pid to exit" bash -c "! kill -0 $pid"; then
      log "$what (pid $pid) still alive, sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
      wait_for 5 "pid $pid to die" bash -c "! kill -0 $pid" || die "could not kill pid $pid"
    fi
  fi
  rm -f "$pidfile"
}

# port_free <port>: true if nothing listens on 127.0.0.1:<port>.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# apt_install_if_missing <command> <package...>
# Installs the packages only when <command> is not on PATH (or is not an
# existing path). Runs apt-get update at most once per run: up.sh exports
# MLOPS_RUN_ID so its child scripts share one stamp file.
apt_install_if_missing() {
  local cmd=$1; shift
  if command -v "$cmd" >/dev/null 2>&1 || [[ -x $cmd ]]; then return 0; fi
  command -v apt-get >/dev/null 2>&1 || die "$cmd missing and apt-get unavailable; install: $*"
  local sudo=()
  (( EUID == 0 )) || sudo=(sudo)
  log "installing $* (for $cmd)"
  export DEBIAN_FRONTEND=noninteractive
  local stamp="$MLOPS_LOCAL_DIR/.apt-updated.${MLOPS_RUN_ID:-$$}"
  if [[ ! -e $stamp ]]; then
    "${sudo[@]}" apt-get update -qq || die "apt-get update failed"
    mkdir -p "$MLOPS_LOCAL_DIR" && touch "$stamp"
  fi
  # policy-rc.d exit 101 keeps the packages from auto-starting system services.
  local policy=/usr/sbin/policy-rc.d created=
  if [[ ! -e $policy ]] && (( EUID == 0 )); then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created=1
  fi
  local rc=0
  "${sudo[@]}" apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends "$@" >&2 || rc=$?
  [[ -n $created ]] && rm -f "$policy"
  (( rc == 0 )) || die "apt-get install $* failed"
  command -v "$cmd" >/dev/null 2>&1 || [[ -x $cmd ]] || die "$cmd still missing after installing $*"
}

# dispatch "$@": calls the do_start/do_stop/do_status defined by the caller.
dispatch() {
  local cmd=${1:-}; shift || true
  case $cmd in
    start)  do_start "$@" ;;
    stop)   do_stop "$@" ;;
    status) do_status "$@" ;;
    *) echo "usage: $0 start|stop [--purge]|status" >&2; exit 2 ;;
  esac
}
