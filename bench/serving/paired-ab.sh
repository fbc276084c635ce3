#!/usr/bin/env bash
# Paired A/B of builds against the gRPC floor, for a shared machine: within one round every point
# runs echo-server.mjs, then each build, back to back (same minutes), so compare the ratios to
# the echo server of the same round, never absolute req/s across rounds. A benchmark, not a test.
#
# usage: bash bench/serving/paired-ab.sh ROUND NAME=DIST [NAME=DIST ...]
#   e.g. bash bench/serving/paired-ab.sh 1 before=/tmp/x-before/dist after=dist
#   (a DIST outside the repo needs node_modules beside it: ln -s "$PWD/node_modules" /tmp/x-before/)
# env:   POINTS="1:32 1:8 100:8" (rows:concurrency)  SECS=6  WARMUP_S=2  OUT=<dir, default /tmp/mlops-serving-ab>
# Server on cpu 0, ghz on cpu 1 (--cpus 1, 1 connection, same ghz options as measure.sh), our
# servers with the in-process bus and default settings. Prints one line per run: req/s, ratio
# to the round's echo server, server CPU µs per request (utime+stime over the measured window),
# libuv loop iterations and events per request over the same window (loop-count.cjs), p50/p99.
# Hold a lock around it if other benchmarks share the machine.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
round=${1:?usage: paired-ab.sh ROUND NAME=DIST ...}; shift
(( $# > 0 )) || { echo "usage: paired-ab.sh ROUND NAME=DIST ..." >&2; exit 2; }
SECS=${SECS:-6}
WARMUP_S=${WARMUP_S:-2}
OUT=${OUT:-/tmp/mlops-serving-ab}
GHZ="${GHZ:-${XDG_CACHE_HOME:-$HOME/.cache}/mlops-bin/ghz}"
[[ -x $GHZ ]] || { echo "no ghz at $GHZ (bench/serving/run.sh installs it)" >&2; exit 1; }
mkdir -p "$OUT/models"
if [[ ! -f $OUT/models/logreg_v1.onnx ]]; then "$(bash deploy/local/python.sh)" test/fixtures/serving/make_models.py "$OUT/models" >&2; fi
for rows in 1 100; do [[ -f $OUT/req-r$rows.json ]] || node "$HERE/make-request.mjs" "$rows" "$OUT/req-r$rows.json" m; done

SPID=
trap '[[ -n $SPID ]] && kill "$SPID" 2>/dev/null || true' EXIT
# A free port below the ephemeral range, none of the arguments (ports picked, not bound yet).
free_port() { node "$ROOT/bench/free-port.mjs" "$@"; }

# one NAME ROWS CONC ECHO_RPS SCRIPT (run with node, the port as its last argument)
one() {
  local name=$1 rows=$2 conc=$3 echo_rps=$4; shift 4
  local port; port=$(free_port)
  rm -f "$OUT/$name.loops"
  SERVING_GRPC_HOST=127.0.0.1 SERVING_GRPC_PORT=$port SERVING_MODELS="m=$OUT/models/logreg_v1.onnx" SERVING_PROTO_DIR="$ROOT/proto" \
    LOOP_COUNT_FILE="$OUT/$name.loops" taskset -c 0 node -r "$HERE/loop-count.cjs" "$@" "$port" >"$OUT/$name.server.log" 2>&1 &
  SPID=$!
  TIMEOUT_S=60 node "$HERE/wait-ready.mjs" "127.0.0.1:$port" >/dev/null
  local common=(--insecure --cpus 1 --proto proto/grpc_service.proto --import-paths proto --call inference.GRPCInferenceService.ModelInfer
    -D "$OUT/req-r$rows.json" --connections 1 -c "$conc" --duration-stop wait)
  timeout $((WARMUP_S + 30)) taskset -c 1 "$GHZ" "${common[@]}" -z "${WARMUP_S}s" -O json -o /dev/null "127.0.0.1:$port"
  local before after; before=$(awk '{print $14+$15}' "/proc/$SPID/stat"); kill -USR2 "$SPID"
  timeout $((SECS + 30)) taskset -c 1 "$GHZ" "${common[@]}" -z "${SECS}s" -O json -o "$OUT/$name.json" "127.0.0.1:$port"
  after=$(awk '{print $14+$15}' "/proc/$SPID/stat"); kill -USR2 "$SPID"; sleep 0.2
  kill -INT "$SPID"; wait "$SPID" || true; SPID=
  node -e '
    const [file, name, ticks, echoRps, hz, loopsFile] = process.argv.slice(1);
    const r = require(file);
    const [a, b] = require("fs").readFileSync(loopsFile, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const perCall = (k) => ((b[k] - a[k]) / r.count).toFixed(2);
    const at = (q) => ((r.latencyDistribution ?? []).find((x) => x.percentage === q)?.latency ?? NaN) / 1e6;
    const ratio = echoRps ? `${(r.rps / Number(echoRps)).toFixed(2)}x` : "floor";
    console.log(`${name.padEnd(28)} ${r.rps.toFixed(0).padStart(6)} req/s ${ratio.padStart(6)}  ${((Number(ticks) * 1e6) / Number(hz) / r.count).toFixed(0).padStart(5)} us CPU/req  ${perCall("loopCount")} loop iterations/req  ${perCall("events")} uv events/req  p50 ${at(50).toFixed(2)} p99 ${at(99).toFixed(2)} ms  ${JSON.stringify(r.statusCodeDistribution)}`);
    if (!echoRps) require("fs").writeFileSync(file + ".rps", String(r.rps));
  ' "$OUT/$name.json" "$name" $((after - before)) "$echo_rps" "$(getconf CLK_TCK)" "$OUT/$name.loops"
}

echo "round $round $(date -u +%FT%TZ) $(uptime | sed 's/.*load/load/')"
for point in ${POINTS:-1:32 1:8 100:8}; do
  rows=${point%:*} conc=${point#*:}
  one "ab$round-echo-r$rows-c$conc" "$rows" "$conc" "" "$HERE/echo-server.mjs"
  echo_rps=$(cat "$OUT/ab$round-echo-r$rows-c$conc.json.rps")
  for build in "$@"; do
    one "ab$round-${build%%=*}-r$rows-c$conc" "$rows" "$conc" "$echo_rps" "${build#*=}/services/serving/src/main.js"
  done
done
echo "round $round end $(date -u +%T) $(uptime | sed 's/.*load/load/')"
