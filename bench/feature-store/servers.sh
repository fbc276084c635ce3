# Sourced by run.sh and tail.sh: Node >= 22, the servers' addresses, a fresh view, and the
# feature store (production entry point) plus the bare gRPC floor started on the server cpu.
# The caller sets RUN_KIND (file name prefix) before sourcing, and calls start_servers.
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"

source "$ROOT/bench/node.sh"
(( $(node_major) >= 22 )) || { echo "[bench] need node >= 22" >&2; exit 1; }

if [[ -z ${KAFKA_BROKERS:-} && -f /tmp/mlops-local/env ]]; then set -a; source /tmp/mlops-local/env; set +a; fi
: "${KAFKA_BROKERS:?set KAFKA_BROKERS, DATABASE_URL, REDIS_URL (running Kafka, Postgres, Redis)}" "${DATABASE_URL:?}" "${REDIS_URL:?}"
export KAFKA_BROKERS DATABASE_URL REDIS_URL
export KAFKAJS_NO_PARTITIONER_WARNING=1

if [[ ${BUILD:-0} == 1 || ! -f dist/services/feature-store/src/main.js ]]; then npm run build >&2; fi
newer=$(find services/feature-store/src libs -name '*.ts' ! -name '*.spec.ts' ! -name '*.integration-spec.ts' -newer dist/services/feature-store/src/main.js 2>/dev/null | head -3)
[[ -z $newer ]] || echo "[bench] warning: sources newer than dist (run with BUILD=1): $newer" >&2

PIN="${PIN:-1}"
if [[ $PIN == 1 && $(nproc) -ge 2 ]]; then SERVER_CPU=(taskset -c 0); LOAD_CPU=(taskset -c 1); GHZ_CPUS=1; else PIN=0; SERVER_CPU=(); LOAD_CPU=(); GHZ_CPUS=$(nproc); fi
# NICE=-20 (root): the servers and load generators of this run get the CPU first when the
# machine is shared, an approximation of dedicated cores. Redis, Kafka and Postgres keep theirs.
NICE="${NICE:-0}"
if [[ $NICE != 0 ]]; then SERVER_CPU=(nice -n "$NICE" "${SERVER_CPU[@]}"); LOAD_CPU=(nice -n "$NICE" "${LOAD_CPU[@]}"); fi
read -r -a NODE_ARGS <<<"${SERVER_NODE_ARGS:-}"

RUN="${RUN_KIND:0:1}$(date +%s)$$"
VIEW="bench_$RUN"
SOURCE="bench_$RUN"
PREFIX="fs-bench-$RUN"
export OUT="${OUT:-$(mktemp -d "/tmp/mlops-bench-$RUN_KIND.XXXXXX")}"
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

# A free port below the ephemeral range, none of the arguments (ports picked, not bound yet).
free_port() { node "$HERE/../free-port.mjs" "$@"; }
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

# Starts both servers on free ports and waits until the feature store is ready.
start_servers() {
  HTTP_PORT=$(free_port); GRPC_PORT=$(free_port "$HTTP_PORT"); FLOOR_PORT=$(free_port "$HTTP_PORT" "$GRPC_PORT")
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
  echo "[bench] feature store on $URL, gRPC $ADDRESS (view $VIEW, Redis prefix $PREFIX); floor gRPC $FLOOR_ADDRESS; raw results in $OUT" >&2
}

scrape() { curl -fsS "$URL/metrics" >"$OUT/metrics-$1.txt" || true; }
