#!/usr/bin/env bash
# The whole distributed platform on this machine, in order: the infrastructure (up.sh), the
# event topics, then each service from its built entry point, each waited for on its
# /health/ready, then the nginx front door on one port. One log file per service.
#
#   bash deploy/local/platform.sh start     # idempotent: what already runs is left running
#   bash deploy/local/platform.sh status
#   bash deploy/local/platform.sh stop      # services and front door; Kafka, Postgres, Redis keep running
#   bash deploy/local/platform.sh stop --purge   # and everything they hold: topics, databases, artifacts
#
# State: $MLOPS_LOCAL_DIR/platform/{logs/<service>.log,pids/,artifacts/,nginx/}.
set -euo pipefail
LOG_TAG=platform
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ROOT="$(cd "$LOCAL_SCRIPTS_DIR/../.." && pwd)"
STATE="$MLOPS_LOCAL_DIR/platform"
READY_TIMEOUT="${PLATFORM_READY_TIMEOUT:-90}"

# The order matters: tracking before the trainer and the registry (they log to it and read from
# it), the registry before serving (deployments), the rest after.
SERVICES=(tracking registry ingestion feature-store trainer serving monitoring loop)

export INGESTION_PORT="${INGESTION_PORT:-3001}" FEATURE_STORE_HTTP_PORT="${FEATURE_STORE_HTTP_PORT:-3002}"
export FEATURE_STORE_GRPC_PORT="${FEATURE_STORE_GRPC_PORT:-8002}" TRACKING_PORT="${TRACKING_PORT:-5000}"
export TRAINER_PORT="${TRAINER_PORT:-3005}" REGISTRY_PORT="${REGISTRY_PORT:-5100}"
export SERVING_GRPC_PORT="${SERVING_GRPC_PORT:-8001}" SERVING_HTTP_PORT="${SERVING_HTTP_PORT:-9464}"
export MONITORING_PORT="${MONITORING_PORT:-3007}" LOOP_PORT="${LOOP_PORT:-3008}"
FRONT_DOOR_PORT="${FRONT_DOOR_PORT:-8080}"

http_port() {
  case $1 in
    ingestion) echo "$INGESTION_PORT" ;; feature-store) echo "$FEATURE_STORE_HTTP_PORT" ;;
    tracking) echo "$TRACKING_PORT" ;; trainer) echo "$TRAINER_PORT" ;; registry) echo "$REGISTRY_PORT" ;;
    serving) echo "$SERVING_HTTP_PORT" ;; monitoring) echo "$MONITORING_PORT" ;; loop) echo "$LOOP_PORT" ;;
  esac
}

# The variables docker-compose.yml gives each service beyond the shared ones (on loopback).
service_env() {
  local art="$STATE/artifacts"
  case $1 in
    feature-store) echo "ONLINE_STORE=redis FEATURE_STORE_ARTIFACT_ROOT=$art/datasets" ;;
    tracking) echo "TRACKING_ARTIFACT_ROOT=$art/tracking" ;;
    trainer) echo "TRAINER_ARTIFACT_ROOT=$art/models TRAINER_DATASET_ROOT=$art/datasets TRACKING_URI=http://127.0.0.1:$TRACKING_PORT" ;;
    registry) echo "REGISTRY_ARTIFACT_ROOT=$art/registry REGISTRY_TRACKING_URI=http://127.0.0.1:$TRACKING_PORT" ;;
    loop) echo "LOOP_REGISTRY_URL=http://127.0.0.1:$REGISTRY_PORT LOOP_FEATURE_STORE_URL=http://127.0.0.1:$FEATURE_STORE_HTTP_PORT" ;;
  esac
}

ready() { curl -fsS -o /dev/null "http://127.0.0.1:$(http_port "$1")/health/ready"; }

start_service() {
  local name=$1 pidfile="$STATE/pids/$1.pid" logfile="$STATE/logs/$1.log"
  if pid_alive "$pidfile"; then
    log "$name already running (pid $(<"$pidfile"))"
    return
  fi
  # shellcheck disable=SC2046  # service_env is a list of NAME=value words
  (cd "$ROOT" && exec env BUS=kafka $(service_env "$name") node "dist/services/$name/src/main.js" >>"$logfile" 2>&1) &
  echo $! >"$pidfile"
  if ! wait_for "$READY_TIMEOUT" "$name on :$(http_port "$name")" ready "$name"; then
    tail -n 30 "$logfile" >&2 || true
    die "$name did not become ready (log: $logfile)"
  fi
  log "$name ready on :$(http_port "$name") (pid $(<"$pidfile"), log $logfile)"
}

start_front_door() {
  local dir="$STATE/nginx" nginx_bin
  nginx_bin=$(bash "$LOCAL_SCRIPTS_DIR/nginx.sh")
  if pid_alive "$dir/nginx.pid"; then
    log "front door already running on :$FRONT_DOOR_PORT"
    return
  fi
  mkdir -p "$dir/logs"
  export FRONT_DOOR_LISTEN="127.0.0.1:$FRONT_DOOR_PORT"
  # The web console, as `npm run build` bundles it.
  export CONSOLE_ROOT="$ROOT/dist/console"
  local service var
  for service in "${SERVICES[@]}"; do
    var="$(tr 'a-z-' 'A-Z_' <<<"$service")_UPSTREAM"
    export "$var=127.0.0.1:$(http_port "$service")"
  done
  bash "$ROOT/deploy/nginx/render.sh" >"$dir/front-door.conf"
  cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 512; }
http {
  access_log $dir/logs/access.log;
  client_body_temp_path $dir/client_body_temp;
  proxy_temp_path $dir/proxy_temp;
  fastcgi_temp_path $dir/fastcgi_temp;
  uwsgi_temp_path $dir/uwsgi_temp;
  scgi_temp_path $dir/scgi_temp;
  include $dir/front-door.conf;
}
CONF
  # nginx reads $NGINX itself (sockets inherited in a binary upgrade), so it must not see ours
  # (.ci/run exports the binary's path there); and the daemon must not keep our stdout open.
  env -u NGINX "$nginx_bin" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" >>"$dir/logs/error.log" 2>&1 </dev/null
  wait_for 30 "the front door on :$FRONT_DOOR_PORT" curl -fsS -o /dev/null "http://127.0.0.1:$FRONT_DOOR_PORT/registry/health/ready" \
    || die "the front door did not answer (log: $dir/logs/error.log)"
  log "front door (nginx) on http://127.0.0.1:$FRONT_DOOR_PORT"
}

cmd_start() {
  mkdir -p "$STATE/logs" "$STATE/pids" "$STATE/artifacts"
  # The services need Node >= 22: the same bootstrap as `npm start` on an older machine node.
  PATH="$(cd "$ROOT" && node scripts/ensure-node.mjs):$PATH"
  bash "$LOCAL_SCRIPTS_DIR/up.sh"
  set -a
  # shellcheck disable=SC1091
  source "$MLOPS_LOCAL_DIR/env"
  set +a
  if [[ ! -f $ROOT/dist/services/loop/src/main.js ]]; then
    log "building (npm run build)"
    (cd "$ROOT" && npm run --silent build)
  fi
  local first=""
  [[ -f $STATE/started-once ]] || first=--first-start
  (cd "$ROOT" && node deploy/local/topics.mjs $first) | while IFS= read -r line; do log "$line"; done
  touch "$STATE/started-once"
  for service in "${SERVICES[@]}"; do start_service "$service"; done
  start_front_door
  log "platform up: MLFLOW_TRACKING_URI=http://127.0.0.1:$FRONT_DOOR_PORT; gRPC inference 127.0.0.1:$SERVING_GRPC_PORT; logs in $STATE/logs"
}

cmd_status() {
  local service rc=0
  for service in "${SERVICES[@]}"; do
    if pid_alive "$STATE/pids/$service.pid" && ready "$service"; then
      echo "$service: ready on :$(http_port "$service") (pid $(<"$STATE/pids/$service.pid"))"
    elif pid_alive "$STATE/pids/$service.pid"; then
      echo "$service: running, not ready (log: $STATE/logs/$service.log)"; rc=1
    else
      echo "$service: stopped"; rc=1
    fi
  done
  if pid_alive "$STATE/nginx/nginx.pid"; then echo "front door: on :$FRONT_DOOR_PORT"; else echo "front door: stopped"; rc=1; fi
  return $rc
}

cmd_stop() {
  local purge=${1:-} i
  if pid_alive "$STATE/nginx/nginx.pid"; then kill_pidfile "$STATE/nginx/nginx.pid" 10; fi
  # All at once: each leaves its consumer groups and closes its connections in a few seconds.
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
    if [[ -f $STATE/pids/${SERVICES[i]}.pid ]]; then kill_pidfile "$STATE/pids/${SERVICES[i]}.pid" 30 & fi
  done
  wait
  log "services stopped"
  if [[ $purge == --purge ]]; then
    bash "$LOCAL_SCRIPTS_DIR/down.sh" --purge
    rm -rf "$STATE"
    log "purged: topics, databases, Redis, artifacts and logs"
  fi
}

case "${1:-}" in
  start) cmd_start ;;
  status) cmd_status ;;
  stop) cmd_stop "${2:-}" ;;
  *) echo "usage: bash deploy/local/platform.sh start | status | stop [--purge]" >&2; exit 2 ;;
esac
