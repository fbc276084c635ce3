#!/usr/bin/env bash
# Feature store benchmark (issue 3; a benchmark, not a test: nothing here runs in CI).
# Starts the production entry point (node dist/services/feature-store/src/main.js) on the
# running Kafka + Postgres + Redis (BUS=kafka, ONLINE_STORE=redis), preloads N entities
# through Kafka, then measures from separate processes, all on 127.0.0.1:
#   (a) GetOnlineFeatures throughput and p50/p99 under ghz, 1 and 100 entities per call,
#       closed loop; and single-entity reads at a fixed 1,000 calls/s (target p99 < 2 ms);
#       the same points with a Node @grpc/grpc-js client (load.mjs),
#   (b) ingest-to-online freshness: kafkajs producer -> visible over gRPC (target p99 < 1 s),
#   (c) the floors: bare ioredis pipelines of HMGET on the same keys from the same kind of
#       Node client (load.mjs --target redis); and for the fixed rate, a bare grpc-js server
#       doing the same HMGET (floor-server.mjs, on the feature store's cpu) measured by the
#       same ghz and Node client runs; ours/floor. Around our fixed-rate phases the service's
#       /metrics is scraped: its event-loop delay and GC time during the phase.
# Everything it starts is stopped on exit; the view's Postgres rows and Redis keys removed.
#
# usage: bash bench/feature-store/run.sh
# env:   ENTITIES=5000 SECONDS_EACH=10 WARMUP_S=2 CONC=8 RATE=1000 FRESH_EVENTS=300 FRESH_RATE=20
#        PIN=1 (server on cpu 0, load on cpu 1)  BUILD=1 (npm run build first)  OUT=<dir>
#        SERVER_NODE_ARGS="--max-semi-space-size=4" (node flags of the feature store and the gRPC floor)
#        KAFKA_BROKERS / DATABASE_URL / REDIS_URL (default: /tmp/mlops-local/env)
#        SMOKE=1: seconds-long, tiny sizes, no lock; proves the benchmark still runs (npm run bench:smoke),
#        its figures mean nothing
set -euo pipefail
RUN_KIND=feature-store
if [[ ${SMOKE:-0} == 1 ]]; then export ENTITIES=50 SECONDS_EACH=1 WARMUP_S=0 CONC=2 RATE=200 FRESH_EVENTS=5 FRESH_RATE=20 PIN=0; fi
source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

BIN="${XDG_CACHE_HOME:-$HOME/.cache}/mlops-bin"
GHZ="${GHZ:-$BIN/ghz}"
if [[ ! -x $GHZ ]]; then
  echo "[bench] installing ghz into $BIN" >&2
  GOBIN="$BIN" go install github.com/bojand/ghz/cmd/ghz@latest >&2
fi

ENTITIES="${ENTITIES:-5000}"
SECONDS_EACH="${SECONDS_EACH:-10}"
WARMUP_S="${WARMUP_S:-2}"
CONC="${CONC:-8}"
RATE="${RATE:-1000}"
FRESH_EVENTS="${FRESH_EVENTS:-300}"
FRESH_RATE="${FRESH_RATE:-20}"

echo "[bench] raw results in $OUT" >&2
if [[ ${SMOKE:-0} != 1 ]]; then
  echo "[bench] waiting for /tmp/mlops-bench.lock" >&2
  exec 9>/tmp/mlops-bench.lock
  flock 9
fi

start_servers

timeout 600 "${LOAD_CPU[@]}" node "$HERE/preload.mjs" --source "$SOURCE" --entities "$ENTITIES" --url "$URL" --out "$OUT/preload.json"

# ghz NAME BATCH [extra args]: warm-up (discarded) then the measured run, both bounded;
# the service's /metrics scraped just before and after the measured run. TARGET: the address.
ghz_run() {
  local name=$1 batch=$2; shift 2
  local data
  data=$(node -e 'const [v,n,b]=process.argv.slice(1);console.log(JSON.stringify({feature_view:v,entity_keys:Array.from({length:+b},()=>`e{{randomInt 0 ${n}}}`)}))' "$VIEW" "$ENTITIES" "$batch")
  local common=(--insecure --cpus "$GHZ_CPUS" --proto proto/feature_store.proto --import-paths proto
    --call mlops.featurestore.v1.FeatureStoreService.GetOnlineFeatures -d "$data" --connections 1 --duration-stop wait)
  timeout $((WARMUP_S + 30)) "${LOAD_CPU[@]}" "$GHZ" "${common[@]}" -z "${WARMUP_S}s" -O json -o /dev/null "$@" "${TARGET:-$ADDRESS}"
  scrape "$name-before"
  timeout $((SECONDS_EACH + 30)) "${LOAD_CPU[@]}" "$GHZ" "${common[@]}" -z "${SECONDS_EACH}s" -O json -o "$OUT/$name.json" "$@" "${TARGET:-$ADDRESS}"
  scrape "$name-after"
  node -e 'const r=require(process.argv[1]);console.error(`[bench] ${process.argv[2]}: ${r.rps.toFixed(0)} calls/s, ${r.count} calls, status ${JSON.stringify(r.statusCodeDistribution)}`)' "$OUT/$name.json" "$name"
}
# node_load NAME args...: load.mjs with the common bounds
node_load() {
  local name=$1; shift
  scrape "$name-before"
  timeout $((WARMUP_S + SECONDS_EACH + 60)) "${LOAD_CPU[@]}" node "$HERE/load.mjs" --view "$VIEW" --prefix "$PREFIX" --entities "$ENTITIES" \
    --seconds "$SECONDS_EACH" --warmup "$WARMUP_S" --out "$OUT/$name.json" "$@"
  scrape "$name-after"
}

# (a) ghz
ghz_run ghz-b1 1 -c "$CONC"
ghz_run ghz-b100 100 -c "$CONC"
ghz_run ghz-b1-rate 1 -c 16 --rps "$RATE"
TARGET="$FLOOR_ADDRESS" ghz_run ghz-floor-b1-rate 1 -c 16 --rps "$RATE"
# (a) and (c): the same Node client against ours and against Redis
node_load grpc-b1 --target grpc --address "$ADDRESS" --batch 1 --concurrency "$CONC"
node_load redis-b1 --target redis --address "$REDIS_URL" --batch 1 --concurrency "$CONC"
node_load grpc-b100 --target grpc --address "$ADDRESS" --batch 100 --concurrency "$CONC"
node_load redis-b100 --target redis --address "$REDIS_URL" --batch 100 --concurrency "$CONC"
node_load grpc-b1-rate --target grpc --address "$ADDRESS" --batch 1 --rps "$RATE"
node_load redis-b1-rate --target redis --address "$REDIS_URL" --batch 1 --rps "$RATE"
node_load floor-b1-rate --target grpc --address "$FLOOR_ADDRESS" --batch 1 --rps "$RATE"
# (b) freshness
timeout 300 "${LOAD_CPU[@]}" node "$HERE/freshness.mjs" --address "$ADDRESS" --view "$VIEW" --source "$SOURCE" --entities "$ENTITIES" \
  --events "$FRESH_EVENTS" --rate "$FRESH_RATE" --out "$OUT/freshness.json"

curl -fsS "$URL/metrics" >"$OUT/metrics.txt" || true
node -e '
const os = require("os");
const [out, ghz, pin, env] = process.argv.slice(1);
require("fs").writeFileSync(out + "/meta.json", JSON.stringify({ date: new Date().toISOString(), cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model,
  node: process.version, ghz, pin: pin === "1", loadavg: os.loadavg(), env }));
' "$OUT" "$(go version -m "$GHZ" 2>/dev/null | awk '$1=="mod"{print $3}' | head -1)" "$PIN" \
  "ENTITIES=$ENTITIES SECONDS_EACH=$SECONDS_EACH WARMUP_S=$WARMUP_S CONC=$CONC RATE=$RATE FRESH_EVENTS=$FRESH_EVENTS FRESH_RATE=$FRESH_RATE SERVER_NODE_ARGS=${SERVER_NODE_ARGS:-}"
cleanup
node "$HERE/report.mjs" "$OUT"
