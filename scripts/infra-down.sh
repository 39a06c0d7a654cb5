#!/usr/bin/env bash
# Stops the local Kafka broker started by infra-up.sh. PostgreSQL is left running: it is the
# machine's, not ours.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/infra-env.sh"

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
