#!/usr/bin/env bash
# Tracking log-batch benchmark (issue 4; not a test, not run in CI).
# Our tracking service (built dist/, SQLite) next to the official MLflow tracking server
# (SQLite), one after the other on this machine, same client (bench/tracking/load.mjs), same
# payload. Prints metrics/s, p50/p99 latency per phase and the ratio ours/MLflow.
#
# usage: bash bench/tracking/run.sh
#   BENCH_MLFLOW_VERSION (2.17.2)
#   BENCH_MLFLOW_WORKERS ("1 default"): one MLflow server per entry, each compared with ours;
#     a number = `--workers N`, "default" = mlflow's own default (4 gunicorn workers)
#   BENCH_TRACKING_WORKERS (1): TRACKING_WORKERS of ours
#   BENCH_TRACKING_SQLITE_SYNCHRONOUS (NORMAL): TRACKING_SQLITE_SYNCHRONOUS of ours (FULL = fsync per commit)
#   (BENCH_ prefix: mlflow itself reads MLFLOW_* env vars as CLI options, e.g. MLFLOW_WORKERS)
#   SKIP_BUILD=1 (use the existing dist/)  KEEP_TMP=1
#   load shape: SEQ_N SEQ_SECONDS CONC CONC_N CONC_SECONDS WARMUP (see load.mjs)
#   SMOKE=1: seconds-long, tiny load, no lock, our server only (the MLflow peer is skipped,
#     with a line saying so: its venv is not provisioned in CI); proves the benchmark still
#     runs (npm run bench:smoke), its figures mean nothing
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
HERE=$ROOT/bench/tracking

BENCH_MLFLOW_VERSION=${BENCH_MLFLOW_VERSION:-2.17.2}
BENCH_MLFLOW_WORKERS=${BENCH_MLFLOW_WORKERS:-1 default}
BENCH_TRACKING_WORKERS=${BENCH_TRACKING_WORKERS:-1}
BENCH_TRACKING_SQLITE_SYNCHRONOUS=${BENCH_TRACKING_SQLITE_SYNCHRONOUS:-NORMAL}
VENV=${XDG_CACHE_HOME:-$HOME/.cache}/mlops-bench-venv
if [[ ${SMOKE:-0} == 1 ]]; then
  BENCH_MLFLOW_WORKERS=""
  export SEQ_N=20 SEQ_SECONDS=1 CONC=2 CONC_N=20 CONC_SECONDS=1 WARMUP=0
  SKIP_BUILD=1
  echo "[smoke] tracking: MLflow peer skipped: its venv ($VENV, mlflow==$BENCH_MLFLOW_VERSION) is not provisioned in CI"
fi
LOCK=/tmp/mlops-bench.lock

# --- node >= 22 (same place .ci/run puts it) --------------------------------------------
source "$ROOT/bench/node.sh"
(( $(node_major) >= 22 )) || { echo "need node >= 22 (bash .ci/run installs one into $NODE_BIN)" >&2; exit 1; }

# --- mlflow in its own venv (never the interop requirements) -----------------------------
# mlflow 2.17 imports sqlalchemy.pool.FallbackAsyncAdaptedQueuePool, gone in SQLAlchemy 2.1
if [[ -n $BENCH_MLFLOW_WORKERS ]] && ! { "$VENV/bin/mlflow" --version 2>/dev/null | grep -q "$BENCH_MLFLOW_VERSION" &&
       "$VENV/bin/python" -c 'from sqlalchemy.pool import FallbackAsyncAdaptedQueuePool' 2>/dev/null; }; then
  echo "installing mlflow==$BENCH_MLFLOW_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "mlflow==$BENCH_MLFLOW_VERSION" "sqlalchemy<2.1"
fi

# --- build ---------------------------------------------------------------------------------
if [[ ${SKIP_BUILD:-0} != 1 ]]; then npm run -s build; fi
[[ -f dist/services/tracking/src/main.js ]] || { echo "dist/ missing: npm run build" >&2; exit 1; }

TMP=$(mktemp -d /tmp/mlops-bench-tracking.XXXXXX)
PIDS=()
stop_group() { # $1 = pid that is also its process group id (started with setsid)
  kill -TERM -- "-$1" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 -- "-$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL -- "-$1" 2>/dev/null || true
}
cleanup() {
  for p in "${PIDS[@]}"; do stop_group "$p"; done
  if [[ ${KEEP_TMP:-0} == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP   # so a signal still runs cleanup

# A free port below the ephemeral range, none of the arguments (ports picked, not bound yet).
free_port() { node "$ROOT/bench/free-port.mjs" "$@"; }
wait_http() { # url, pid, log
  for _ in $(seq 600); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { echo "server died, log:" >&2; tail -30 "$3" >&2; exit 1; }
    sleep 0.1
  done
  echo "timeout waiting for $1" >&2; tail -30 "$3" >&2; exit 1
}

# --- measuring part: one bench at a time on this machine ----------------------------------
if [[ ${SMOKE:-0} != 1 ]]; then
  exec 9>"$LOCK"
  echo "waiting for $LOCK ..."
  flock 9
fi
echo "== tracking log-batch benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "host: $(nproc) cores, $(uname -sr), loadavg $(cut -d' ' -f1-3 /proc/loadavg); node $(node -v); mlflow $(if [[ -n $BENCH_MLFLOW_WORKERS ]]; then "$VENV/bin/mlflow" --version | awk '{print $NF}'; else echo none; fi), mlflow workers: ${BENCH_MLFLOW_WORKERS}; ours TRACKING_WORKERS=${BENCH_TRACKING_WORKERS} TRACKING_SQLITE_SYNCHRONOUS=${BENCH_TRACKING_SQLITE_SYNCHRONOUS}"
echo "load: SEQ_N=${SEQ_N:-200} SEQ_SECONDS=${SEQ_SECONDS:-20} CONC=${CONC:-8} CONC_N=${CONC_N:-400} CONC_SECONDS=${CONC_SECONDS:-20} WARMUP=${WARMUP:-5}"

# ours
PORT=$(free_port)
TRACKING_HOST=127.0.0.1 TRACKING_PORT=$PORT BUS=in-process TRACKING_WORKERS=$BENCH_TRACKING_WORKERS \
  TRACKING_SQLITE_SYNCHRONOUS=$BENCH_TRACKING_SQLITE_SYNCHRONOUS \
  DATABASE_URL="sqlite:$TMP/tracking.db" TRACKING_ARTIFACT_ROOT="$TMP/artifacts" \
  setsid node dist/services/tracking/src/main.js >"$TMP/ours.log" 2>&1 &
OURS=$!; PIDS+=("$OURS")
wait_http "http://127.0.0.1:$PORT/health" "$OURS" "$TMP/ours.log"
echo "ours: http://127.0.0.1:$PORT (DATABASE_URL=sqlite:$TMP/tracking.db, pid $OURS)"
node "$HERE/load.mjs" --url "http://127.0.0.1:$PORT" --label ours --out "$TMP/ours.json" || { code=$?; echo "ours: load exited $code"; [[ ${SMOKE:-0} != 1 ]] || exit "$code"; }

# ours again, through the front door: a real nginx with deploy/nginx/front-door.conf.template
# (every upstream rendered to this tracking server; only tracking's paths are used).
NGINX_BIN=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
FRONT_DOOR=""
if [[ -x $NGINX_BIN ]]; then
  FD_PORT=$(free_port "$PORT")
  mkdir -p "$TMP/nginx"
  # Every upstream is this tracking server; the console is not built here, an empty root will do.
  mkdir -p "$TMP/console"
  for var in $(grep -o '${[A-Z_]*_UPSTREAM}' "$ROOT/deploy/nginx/front-door.conf.template" | tr -d '${}' | sort -u); do
    export "$var=127.0.0.1:$PORT"
  done
  FRONT_DOOR_LISTEN=127.0.0.1:$FD_PORT CONSOLE_ROOT=$TMP/console bash "$ROOT/deploy/nginx/render.sh" >"$TMP/nginx/front-door.conf"
  cat >"$TMP/nginx/nginx.conf" <<NGINX
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/body; proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi; uwsgi_temp_path $TMP/nginx/uwsgi; scgi_temp_path $TMP/nginx/scgi;
  include $TMP/nginx/front-door.conf;
}
NGINX
  setsid "$NGINX_BIN" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -g 'daemon off;' >"$TMP/nginx.log" 2>&1 &
  FD=$!; PIDS+=("$FD")
  wait_http "http://127.0.0.1:$FD_PORT/healthz" "$FD" "$TMP/nginx.log"
  FRONT_DOOR=http://127.0.0.1:$FD_PORT
  echo "ours through the front door: $FRONT_DOOR (nginx $("$NGINX_BIN" -v 2>&1 | sed 's/.*\///'), pid $FD)"
  node "$HERE/load.mjs" --url "$FRONT_DOOR" --label ours-front-door --out "$TMP/ours-front-door.json" || { code=$?; echo "ours-front-door: load exited $code"; [[ ${SMOKE:-0} != 1 ]] || exit "$code"; }
  stop_group "$FD"
else
  echo "front door phase skipped: no nginx ($NGINX_BIN; bash deploy/local/nginx.sh installs it)"
fi
stop_group "$OURS"

# mlflow, once per entry of BENCH_MLFLOW_WORKERS
for W in $BENCH_MLFLOW_WORKERS; do
  PORT=$(free_port)
  WORKERS_ARG=(); [[ $W != default ]] && WORKERS_ARG=(--workers "$W")
  setsid "$VENV/bin/mlflow" server --backend-store-uri "sqlite:///$TMP/mlflow-$W.db" \
    --default-artifact-root "$TMP/mlartifacts" --host 127.0.0.1 --port "$PORT" "${WORKERS_ARG[@]}" \
    >"$TMP/mlflow-$W.log" 2>&1 &
  MLF=$!; PIDS+=("$MLF")
  wait_http "http://127.0.0.1:$PORT/health" "$MLF" "$TMP/mlflow-$W.log"
  echo "mlflow-$W: http://127.0.0.1:$PORT (mlflow server --backend-store-uri sqlite:///$TMP/mlflow-$W.db ${WORKERS_ARG[*]:-(default workers)}, pid $MLF)"
  node "$HERE/load.mjs" --url "http://127.0.0.1:$PORT" --label "mlflow-$W" --out "$TMP/mlflow-$W.json" || echo "mlflow-$W: load exited $?"
  stop_group "$MLF"
done

for W in $BENCH_MLFLOW_WORKERS; do
  echo ""
  echo "=== ours (TRACKING_WORKERS=$BENCH_TRACKING_WORKERS, TRACKING_SQLITE_SYNCHRONOUS=$BENCH_TRACKING_SQLITE_SYNCHRONOUS) vs mlflow server, workers: $W"
  node "$HERE/load.mjs" --compare "$TMP/ours.json" "$TMP/mlflow-$W.json"
  if [[ -n $FRONT_DOOR ]]; then
    echo ""
    echo "=== ours through the front door (nginx) vs mlflow server, workers: $W"
    node "$HERE/load.mjs" --compare "$TMP/ours-front-door.json" "$TMP/mlflow-$W.json"
  fi
done
if [[ -n $FRONT_DOOR ]]; then
  echo ""
  echo "=== ours through the front door (nginx) vs ours direct: the proxy hop's cost"
  node "$HERE/load.mjs" --compare "$TMP/ours-front-door.json" "$TMP/ours.json"
fi
echo "loadavg after: $(cut -d' ' -f1-3 /proc/loadavg)"
