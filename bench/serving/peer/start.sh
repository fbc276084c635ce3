#!/usr/bin/env bash
# Starts the MLServer peer on 127.0.0.1 serving MODEL (an .onnx file) as model NAME.
# usage: bash start.sh MODEL NAME GRPC_PORT HTTP_PORT WORKDIR   (runs in the foreground)
# PEER_PARALLEL_WORKERS (default 0: inference in the server process, like ours on one core).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MODEL=$1 NAME=$2 GRPC_PORT=$3 HTTP_PORT=$4 WORK=$5
PY="$(bash "$HERE/python.sh")"
mkdir -p "$WORK/$NAME"
cp "$HERE/onnx_model.py" "$WORK/"
cat > "$WORK/settings.json" <<JSON
{ "host": "127.0.0.1", "grpc_port": $GRPC_PORT, "http_port": $HTTP_PORT, "metrics_endpoint": null,
  "parallel_workers": ${PEER_PARALLEL_WORKERS:-0}, "debug": false }
JSON
cat > "$WORK/$NAME/model-settings.json" <<JSON
{ "name": "$NAME", "implementation": "onnx_model.OnnxModel", "parameters": { "uri": "$MODEL" } }
JSON
cd "$WORK"
exec "$(dirname "$PY")/mlserver" start "$WORK"
