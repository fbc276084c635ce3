#!/usr/bin/env bash
# The measuring part of run.sh (run under flock /tmp/mlops-bench.lock by run.sh; expects
# OUT, MODEL, GHZ and the request files it prepares). Every server it starts listens on
# 127.0.0.1 only and is stopped on exit; every ghz run is bounded by -z and timeout.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
SECONDS_EACH="${SECONDS_EACH:-10}"
WARMUP_S="${WARMUP_S:-2}"
CONCURRENCIES="${CONCURRENCIES:-8 32}"
HALF_CONCURRENCY="${HALF_CONCURRENCY:-32}"
PIN="${PIN:-1}"
if [[ $PIN == 1 && $(nproc) -ge 2 ]]; then SERVER_CPU=(taskset -c 0); LOAD_CPU=(taskset -c 1); GHZ_CPUS=1; else PIN=0; SERVER_CPU=(); LOAD_CPU=(); GHZ_CPUS=$(nproc); fi

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; PIDS=(); }
trap cleanup EXIT

# A free port below the ephemeral range, none of the arguments (ports picked, not bound yet).
free_port() { node "$ROOT/bench/free-port.mjs" "$@"; }

# ghz NAME PORT ROWS CONC [extra ghz args]
ghz_run() {
  local name=$1 port=$2 rows=$3 conc=$4; shift 4
  local common=(--insecure --cpus "$GHZ_CPUS" --proto proto/grpc_service.proto --import-paths proto
    --call inference.GRPCInferenceService.ModelInfer -D "$OUT/req-r$rows.json" --connections "${CONNECTIONS:-1}" -c "$conc" --duration-stop wait)
  timeout $((WARMUP_S + 30)) "${LOAD_CPU[@]}" "$GHZ" "${common[@]}" -z "${WARMUP_S}s" -O json -o /dev/null "$@" "127.0.0.1:$port"
  timeout $((SECONDS_EACH + 30)) "${LOAD_CPU[@]}" "$GHZ" "${common[@]}" -z "${SECONDS_EACH}s" -O json -o "$OUT/$name.json" "$@" "127.0.0.1:$port"
  node -e 'const r=require(process.argv[1]);console.error(`[bench] ${process.argv[2]}: ${r.rps.toFixed(0)} req/s, ${r.count} calls, status ${JSON.stringify(r.statusCodeDistribution)}`)' "$OUT/$name.json" "$name"
}

# rest_run NAME PORT ROWS CONC: autocannon (bench/serving/rest-load.mjs) on the load cpu
rest_run() {
  timeout $((WARMUP_S + SECONDS_EACH + 30)) "${LOAD_CPU[@]}" node "$HERE/rest-load.mjs" "http://127.0.0.1:$2" m "$3" "$4" "$SECONDS_EACH" "$WARMUP_S" "$OUT/$1.json"
}

start_server() { # start_server LOGNAME command...; sets PORT
  local log=$1; shift
  "${SERVER_CPU[@]}" "$@" >"$OUT/$log.log" 2>&1 &
  PIDS+=($!)
  TIMEOUT_S=60 node "$HERE/wait-ready.mjs" "127.0.0.1:$PORT"
}

stop_servers() { cleanup; }

# (c) model floor first, alone on the server's cpu
echo "[bench] model floor" >&2
timeout 120 "${SERVER_CPU[@]}" node "$HERE/model-floor.mjs" "$MODEL" "${FLOOR_SECONDS:-5}" > "$OUT/model-floor.json"

# (a) ours: the production entry point, in-process bus (no Kafka), our defaults unless overridden
PORT=$(free_port)
OURS_ENV="SERVING_GRPC_HOST=127.0.0.1 SERVING_GRPC_PORT=$PORT SERVING_MODELS=m=$MODEL"
echo "[bench] ours on 127.0.0.1:$PORT" >&2
OURS_HTTP_PORT=$(free_port "$PORT")
start_server ours env SERVING_GRPC_HOST=127.0.0.1 SERVING_GRPC_PORT="$PORT" SERVING_HTTP_HOST=127.0.0.1 SERVING_HTTP_PORT="$OURS_HTTP_PORT" SERVING_MODELS="m=$MODEL" SERVING_PROTO_DIR="$ROOT/proto" node "${DIST:-dist}/services/serving/src/main.js"
for rows in 1 100; do for c in $CONCURRENCIES; do ghz_run "ours-r$rows-c$c" "$PORT" "$rows" "$c"; done; done
# (f) REST on the same server: the v2 JSON infer route under autocannon, same points
for rows in 1 100; do for c in $CONCURRENCIES; do rest_run "rest-ours-r$rows-c$c" "$OURS_HTTP_PORT" "$rows" "$c"; done; done
declare -A HALF
for rows in 1 100; do
  best=$(node -e 'let b=0;for(const c of process.argv[2].split(" "))b=Math.max(b,require(`${process.argv[1]}/ours-r${process.argv[3]}-c${c}.json`).rps);console.log(Math.max(1,Math.round(b/2)))' "$OUT" "$CONCURRENCIES" "$rows")
  HALF[$rows]=$best
  ghz_run "ours-half-r$rows" "$PORT" "$rows" "$HALF_CONCURRENCY" --rps "$best"
done
stop_servers

# (b) gRPC floor
PORT=$(free_port)
echo "[bench] echo server on 127.0.0.1:$PORT" >&2
# as many processes as ours (SERVING_WORKERS), so per-process overheads are compared like with like
start_server echo node "$HERE/echo-server.mjs" "$PORT" "${SERVING_WORKERS:-1}"
for rows in 1 100; do for c in $CONCURRENCIES; do ghz_run "echo-r$rows-c$c" "$PORT" "$rows" "$c"; done; done
# the floor's tail at the same offered load as ours' half-peak runs: the baseline for the p99 target
for rows in 1 100; do ghz_run "echo-half-r$rows" "$PORT" "$rows" "$HALF_CONCURRENCY" --rps "${HALF[$rows]}"; done
stop_servers

# (e) the peer: MLServer (PyPI) with bench/serving/peer/onnx_model.py, the same ONNX file, same requests
if [[ ${PEER:-1} == 1 ]]; then
  PORT=$(free_port); HTTP_PORT=$(free_port "$PORT")
  echo "[bench] MLServer peer on 127.0.0.1:$PORT" >&2
  # with SERVING_WORKERS > 1 the peer gets as many inference workers unless PEER_PARALLEL_WORKERS says otherwise
  export PEER_PARALLEL_WORKERS="${PEER_PARALLEL_WORKERS:-$(( ${SERVING_WORKERS:-1} > 1 ? ${SERVING_WORKERS:-1} : 0 ))}"
  start_server peer bash "$HERE/peer/start.sh" "$MODEL" m "$PORT" "$HTTP_PORT" "$OUT/peer"
  for rows in 1 100; do for c in $CONCURRENCIES; do ghz_run "peer-r$rows-c$c" "$PORT" "$rows" "$c"; done; done
  for rows in 1 100; do for c in $CONCURRENCIES; do rest_run "rest-peer-r$rows-c$c" "$HTTP_PORT" "$rows" "$c"; done; done
  stop_servers
fi

# (g) the monitor: serving's prediction.logged (v2) through the monitoring service's consumer path
# against a no-op consumer on the same in-process bus (bench/serving/monitor-throughput.mjs)
if [[ ${MONITOR:-1} == 1 ]]; then
  echo "[bench] monitor throughput" >&2
  timeout 600 "${SERVER_CPU[@]}" node "$HERE/monitor-throughput.mjs" "$OUT/monitor.json" >&2
fi

node -e '
const [out, conc, half, secs, warm, pin, ghzV, halfC, oursEnv, peerV, connections, echoProcesses, peerWorkers] = process.argv.slice(1);
const os = require("os");
require("fs").writeFileSync(out + "/meta.json", JSON.stringify({
  date: new Date().toISOString(), cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version,
  concurrencies: conc.split(" ").map(Number), halfRps: JSON.parse(half), halfConcurrency: Number(halfC),
  seconds: Number(secs), warmup: Number(warm), pin: pin === "1", ghz: ghzV, oursEnv, peer: peerV, connections: Number(connections),
  echoProcesses: Number(echoProcesses), peerWorkers: Number(peerWorkers) }));
' "$OUT" "$CONCURRENCIES" "{\"1\":${HALF[1]},\"100\":${HALF[100]}}" "$SECONDS_EACH" "$WARMUP_S" "$PIN" "$(go version -m "$GHZ" 2>/dev/null | awk '$1=="mod"{print $3}' | head -1)" "$HALF_CONCURRENCY" \
  "$OURS_ENV SERVING_LOG_SAMPLE_RATE=${SERVING_LOG_SAMPLE_RATE:-1(default)} SERVING_MAX_BATCH=${SERVING_MAX_BATCH:-64(default)} SERVING_BATCH_DELAY_US=${SERVING_BATCH_DELAY_US:-500(default)} SERVING_INTRA_OP_THREADS=${SERVING_INTRA_OP_THREADS:-1(default)} SERVING_WORKERS=${SERVING_WORKERS:-1(default)} BUS=in-process${DIST:+ DIST=$DIST}" \
  "$( [[ ${PEER:-1} == 1 ]] && "$(bash "$HERE/peer/python.sh")" -c 'import mlserver, onnxruntime; print(f"mlserver {mlserver.__version__}, onnxruntime (python) {onnxruntime.__version__}")' || echo none)" "${CONNECTIONS:-1}" "${SERVING_WORKERS:-1}" "${PEER_PARALLEL_WORKERS:-0}"
