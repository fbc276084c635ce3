#!/usr/bin/env bash
# Start local Kafka (KRaft), PostgreSQL and Redis on loopback, non-default ports,
# and write $MLOPS_LOCAL_DIR/env with connection settings. Idempotent.
set -euo pipefail
LOG_TAG=up
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export MLOPS_LOCAL_DIR MLOPS_RUN_ID="${MLOPS_RUN_ID:-$$}"
trap 'rm -f "$MLOPS_LOCAL_DIR/.apt-updated.$MLOPS_RUN_ID"' EXIT
mkdir -p "$MLOPS_LOCAL_DIR"

# A port in the ephemeral range can be taken by a client connection's source port while its
# server is down for a restart (the fault tests restart servers); the server then cannot bind it.
if read -r ephemeral_low ephemeral_high < /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null; then
  for port in "${KAFKA_PORT:-19092}" "${KAFKA_CONTROLLER_PORT:-19093}" "${KAFKA_SASL_PORT:-19094}" "${PG_PORT:-15432}" "${REDIS_PORT:-16379}"; do
    if (( port >= ephemeral_low && port <= ephemeral_high )); then
      log "WARNING: port $port is in the ephemeral range $ephemeral_low-$ephemeral_high; a restart of its server may fail to bind it. Prefer a port below $ephemeral_low."
    fi
  done
fi

# kcat: used by kafka.sh's readiness probe and by tests.
apt_install_if_missing kcat kcat

# Kafka is the slow one (JVM); start it in the background while the others
# start. Only postgres.sh/redis.sh may run apt, and they run one after another.
bash "$LOCAL_SCRIPTS_DIR/kafka.sh" start &
kafka_job=$!
rc=0
bash "$LOCAL_SCRIPTS_DIR/postgres.sh" start || rc=$?
(( rc == 0 )) && { bash "$LOCAL_SCRIPTS_DIR/redis.sh" start || rc=$?; }
wait "$kafka_job" || { log "kafka failed to start"; rc=1; }
(( rc == 0 )) || die "local infrastructure failed to start (see messages above)"

ENV_FILE="$MLOPS_LOCAL_DIR/env"
cat >"$ENV_FILE" <<ENV
KAFKA_BROKERS=127.0.0.1:${KAFKA_PORT:-19092}
DATABASE_URL=postgres://mlops:mlops@127.0.0.1:${PG_PORT:-15432}/mlops
REDIS_URL=redis://127.0.0.1:${REDIS_PORT:-16379}
LOCAL_KAFKA_SASL_BROKERS=127.0.0.1:${KAFKA_SASL_PORT:-19094}
LOCAL_KAFKA_SASL_USERNAME=${KAFKA_SASL_USERNAME:-mlops}
LOCAL_KAFKA_SASL_PASSWORD=${KAFKA_SASL_PASSWORD:-mlops-local-secret}
# Where these servers live, so the scripts (e.g. the fault tests' restarts) act on them.
MLOPS_LOCAL_DIR=$MLOPS_LOCAL_DIR
KAFKA_PORT=${KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-19093}
KAFKA_SASL_PORT=${KAFKA_SASL_PORT:-19094}
PG_PORT=${PG_PORT:-15432}
REDIS_PORT=${REDIS_PORT:-16379}
ENV
log "all up; wrote $ENV_FILE:"
cat "$ENV_FILE"
