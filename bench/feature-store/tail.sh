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
#        GHZ_CONCURRENCY=16 (ghz workers; fewer hide server stalls: a closed-loop worker waits out a stall instead of sending)
#        SERVER_NODE_ARGS="--trace-gc" (extra node flags of both servers; logs: $OUT/server.log, $OUT/floor-server.log)
#        SMOKE=1: seconds-long, tiny sizes; proves the script still runs (npm run bench:smoke), its figures mean nothing
set -euo pipefail
RUN_KIND=feature-store-tail
if [[ ${SMOKE:-0} == 1 ]]; then export ENTITIES=50 SECONDS_EACH=1 WARMUP_S=0 RATE=200 INGEST_RATE=20 GHZ_CONCURRENCY=2 PIN=0; fi
source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"
GHZ="${GHZ:-${XDG_CACHE_HOME:-$HOME/.cache}/mlops-bin/ghz}"
[[ -x $GHZ ]] || { echo "[bench] ghz missing at $GHZ: run run.sh once (it installs it)" >&2; exit 1; }
ENTITIES="${ENTITIES:-2000}"
SECONDS_EACH="${SECONDS_EACH:-10}"
WARMUP_S="${WARMUP_S:-2}"
RATE="${RATE:-1000}"
INGEST_RATE="${INGEST_RATE:-200}"
start_servers
timeout 600 "${LOAD_CPU[@]}" node "$HERE/preload.mjs" --source "$SOURCE" --entities "$ENTITIES" --url "$URL" --out "$OUT/preload.json"

ghz_rate() {
  local name=$1 address=$2 data
  data=$(node -e 'const [v,n]=process.argv.slice(1);console.log(JSON.stringify({feature_view:v,entity_keys:[`e{{randomInt 0 ${n}}}`]}))' "$VIEW" "$ENTITIES")
  local common=(--insecure --cpus "$GHZ_CPUS" --proto proto/feature_store.proto --import-paths proto
    --call mlops.featurestore.v1.FeatureStoreService.GetOnlineFeatures -d "$data" --connections 1 --duration-stop wait -c "${GHZ_CONCURRENCY:-16}" --rps "$RATE")
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
