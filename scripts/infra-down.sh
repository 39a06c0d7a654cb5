#!/usr/bin/env bash
# Stops the local Kafka broker started by infra-up.sh. PostgreSQL is left running: it is the
# machine's, not ours. With `--brokers N` it stops the local multi-broker cluster of
# `infra-up.sh --brokers N` instead, leaving the single broker running.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/infra-env.sh"

brokers=1
while [ $# -gt 0 ]; do
  case "$1" in
    --brokers) brokers="${2:-}"; shift 2 || { echo "[infra] error: --brokers needs a number" >&2; exit 1; } ;;
    --brokers=*) brokers="${1#*=}"; shift ;;
    *) echo "[infra] error: unknown argument '$1' (usage: infra-down.sh [--brokers N])" >&2; exit 1 ;;
  esac
done
if [ "$brokers" != 1 ]; then
  log() { printf '[infra] %s\n' "$*"; }
  die() { printf '[infra] error: %s\n' "$*" >&2; exit 1; }
  # shellcheck source=scripts/infra-cluster.sh
  source "$here/infra-cluster.sh"
  check_cluster_size "$brokers"
  recorded="$(recorded_cluster_size)"
  [ -z "$recorded" ] || [ "$recorded" = "$brokers" ] ||
    die "the cluster in $KAFKA_CLUSTER_STATE has $recorded brokers, not $brokers"
  stop_cluster
  exit 0
fi

pidfile="$KAFKA_STATE/broker.pid"
if [ ! -f "$pidfile" ] || ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "[infra] kafka is not running"
  rm -f "$pidfile"
  exit 0
fi
pid="$(cat "$pidfile")"
# SIGTERM lets the broker shut down cleanly; SIGKILL only if it has not stopped after 30s.
kill -TERM "$pid" 2>/dev/null || true
for _ in $(seq 1 60); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done
kill -KILL "$pid" 2>/dev/null || true
rm -f "$pidfile"
echo "[infra] kafka stopped"
