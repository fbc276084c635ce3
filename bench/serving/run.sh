#!/usr/bin/env bash
# Serving benchmark for issue 5 item 8 (a benchmark, not a test: nothing here runs in CI).
# Prints, in one run: (a) our ModelInfer throughput and p50/p99 under ghz at fixed
# concurrencies for 1-row and 100-row requests, (b) the same load against a bare grpc-js
# server with a canned response (the gRPC floor), (c) the ONNX model run in-process with
# onnxruntime-node at batch 1 and 100 (the model floor), (e) the same ghz load against MLServer
# (PyPI) serving the same ONNX file (the peer), (d) the ratios and the targets.
#
# usage: bash bench/serving/run.sh
# env:   SECONDS_EACH=10 WARMUP_S=2 CONCURRENCIES="8 32" HALF_CONCURRENCY=32 PIN=1 PEER=1 CONNECTIONS=1
#        OUT=<dir for raw ghz JSON; default a fresh /tmp dir>  BUILD=1 (npm run build first)
#        DIST=<a build of the tree other than dist/> (see below)
#        SERVING_* variables are passed to our server (e.g. SERVING_LOG_SAMPLE_RATE=0)
#        SMOKE=1: seconds-long, tiny sizes, no lock; proves the benchmark still runs (npm run bench:smoke), its figures mean nothing.
#          The MLServer peer is skipped then (its venv is not provisioned in CI), with a line saying so.
# Needs: go (installs ghz into ~/.cache/mlops-bin once), node >= 22 (uses ~/.cache/mlops-node
# like .ci/run when the machine's node is older), python via deploy/local/python.sh, and for the
# peer its own venv (bench/serving/peer/python.sh; PEER=0 skips the peer).
# Only the measuring part holds /tmp/mlops-bench.lock, so two benchmarks never overlap.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"

source "$ROOT/bench/node.sh"
if [[ ${SMOKE:-0} == 1 ]]; then
  export SECONDS_EACH=1 WARMUP_S=1 CONCURRENCIES=2 HALF_CONCURRENCY=2 FLOOR_SECONDS=1 PIN=0 PEER=0
  echo "[smoke] serving: MLServer peer skipped (PEER=0): its own venv (bench/serving/peer/python.sh) is not provisioned in CI" >&2
fi
(( $(node_major) >= 22 )) || echo "[bench] warning: node $(node -v) is older than the project's 22" >&2

BIN="${XDG_CACHE_HOME:-$HOME/.cache}/mlops-bin"
export GHZ="${GHZ:-$BIN/ghz}"
if [[ ! -x $GHZ ]]; then
  echo "[bench] installing ghz into $BIN" >&2
  GOBIN="$BIN" go install github.com/bojand/ghz/cmd/ghz@latest >&2
fi

# DIST: another build of the tree (e.g. tsc --outDir /tmp/x/dist, with node_modules linked beside it),
# so that a shared dist/ being rebuilt by someone else mid-run can't break the measurement.
export DIST="${DIST:-dist}"
if [[ ${BUILD:-0} == 1 || ! -f $DIST/services/serving/src/main.js ]]; then npm run build >&2; fi
newer=$(find services/serving/src libs -name '*.ts' ! -name '*.spec.ts' -newer "$DIST/services/serving/src/main.js" 2>/dev/null | head -3)
[[ -z $newer ]] || echo "[bench] warning: sources newer than dist (run with BUILD=1): $newer" >&2

export OUT="${OUT:-$(mktemp -d /tmp/mlops-bench-serving.XXXXXX)}"
mkdir -p "$OUT/models"
PY="$(bash deploy/local/python.sh)"
"$PY" test/fixtures/serving/make_models.py "$OUT/models" >&2
export MODEL="$OUT/models/logreg_v1.onnx"
[[ ${PEER:-1} == 1 ]] && bash "$HERE/peer/python.sh" >/dev/null
node "$HERE/make-request.mjs" 1 "$OUT/req-r1.json" m
node "$HERE/make-request.mjs" 100 "$OUT/req-r100.json" m

if [[ ${SMOKE:-0} == 1 ]]; then
  bash "$HERE/measure.sh"
else
  echo "[bench] waiting for /tmp/mlops-bench.lock, raw results in $OUT" >&2
  flock /tmp/mlops-bench.lock bash "$HERE/measure.sh"
fi
node "$HERE/report.mjs" "$OUT"
