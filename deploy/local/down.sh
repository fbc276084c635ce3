#!/usr/bin/env bash
# Stop local Kafka, PostgreSQL and Redis. `down.sh --purge` also deletes their data.
set -euo pipefail
LOG_TAG=down
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rc=0
for svc in kafka postgres redis; do
  bash "$LOCAL_SCRIPTS_DIR/$svc.sh" stop "$@" || { log "$svc failed to stop"; rc=1; }
done
[[ ${1:-} != --purge ]] || rm -f "$MLOPS_LOCAL_DIR/env"
exit "$rc"
