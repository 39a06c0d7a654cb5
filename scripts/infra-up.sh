#!/usr/bin/env bash
# Brings up the local development infrastructure and returns once it works:
#   - Apache Kafka's own broker (KRaft, single node, 127.0.0.1:9092), resolved with Maven from
#     Maven Central into a cache outside the repo and started with a modest heap;
#   - PostgreSQL at DATABASE_URL (the local cluster is started when it is down; the database is
#     created when missing).
# Running it again while everything is up is a no-op.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
# shellcheck source=scripts/infra-env.sh
source "$here/infra-env.sh"

log() { printf '[infra] %s\n' "$*"; }
die() { printf '[infra] error: %s\n' "$*" >&2; exit 1; }

require_tools() {
  command -v java >/dev/null 2>&1 ||
    die "java not found. The local Kafka broker needs a JDK 17 or newer: install one (Debian: apt-get install openjdk-17-jdk-headless) and run this again."
  local major
  major="$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')"
  [ "${major%%.*}" -ge 17 ] 2>/dev/null ||
    die "java ${major:-?} is too old. Apache Kafka ${KAFKA_VERSION} needs Java 17 or newer."
  if [ ! -f "$KAFKA_HOME/.complete" ]; then
    command -v mvn >/dev/null 2>&1 ||
      die "mvn not found. Maven downloads Apache Kafka ${KAFKA_VERSION} the first time: install it (Debian: apt-get install maven) and run this again."
  fi
}

fetch_kafka() {
  [ -f "$KAFKA_HOME/.complete" ] && return 0
  log "resolving Apache Kafka ${KAFKA_VERSION} with Maven into $KAFKA_HOME (first run only)"
  rm -rf "$KAFKA_HOME" && mkdir -p "$KAFKA_HOME"
  mvn -q -B -Dstyle.color=never -f "$here/kafka/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_HOME/libs" ||
    die "Maven could not resolve org.apache.kafka:kafka_2.13:${KAFKA_VERSION}; check that Maven Central is reachable."
  touch "$KAFKA_HOME/.complete"
}

kafka_java() {
  java -Xms128m -Xmx"${KAFKA_HEAP:-512m}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Dlog4j2.configurationFile="$here/kafka/log4j2.properties" -Dkafka.logs.dir="$KAFKA_STATE/logs" \
    -cp "$KAFKA_HOME/libs/*" "$@"
}

kafka_pid() {
  [ -f "$KAFKA_STATE/broker.pid" ] || return 1
  local pid
  pid="$(cat "$KAFKA_STATE/broker.pid")"
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

roundtrip() { node "$here/kafka-roundtrip.js" "$KAFKA_BOOTSTRAP" "$@"; }

start_kafka() {
  if kafka_pid >/dev/null && roundtrip --quiet; then
    log "kafka already running on $KAFKA_BOOTSTRAP (pid $(kafka_pid))"
    return 0
  fi
  if ! kafka_pid >/dev/null && roundtrip --quiet; then
    log "a Kafka broker not started by this script already answers on $KAFKA_BOOTSTRAP; using it"
    return 0
  fi
  if ! kafka_pid >/dev/null; then
    mkdir -p "$KAFKA_STATE/logs"
    sed "s#^log.dirs=.*##" "$here/kafka/server.properties" >"$KAFKA_STATE/server.properties"
    echo "log.dirs=$KAFKA_STATE/data" >>"$KAFKA_STATE/server.properties"
    if [ ! -f "$KAFKA_STATE/data/meta.properties" ]; then
      log "formatting KRaft storage in $KAFKA_STATE/data"
      local cluster_id
      cluster_id="$(kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
      kafka_java kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_STATE/server.properties" >/dev/null
    fi
    log "starting kafka ${KAFKA_VERSION} on $KAFKA_BOOTSTRAP (log: $KAFKA_STATE/logs/server.log)"
    kafka_java kafka.Kafka "$KAFKA_STATE/server.properties" >"$KAFKA_STATE/logs/stdout.log" 2>&1 </dev/null &
    echo $! >"$KAFKA_STATE/broker.pid"
  fi
  local deadline=$((SECONDS + 90))
  until roundtrip --quiet; do
    kafka_pid >/dev/null || die "kafka exited during start; see $KAFKA_STATE/logs/stdout.log and server.log"
    [ $SECONDS -lt $deadline ] || die "kafka did not complete a produce/consume round trip within 90s; see $KAFKA_STATE/logs/"
    sleep 1
  done
  log "kafka ready: produce/consume round trip ok"
}

ensure_postgres() {
  local admin_url="${DATABASE_URL%/*}/postgres" db="${DATABASE_URL##*/}"
  db="${db%%\?*}"
  if ! pg_isready -q -d "$admin_url" 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null 2>&1; then
      local version
      version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)"
      [ -n "$version" ] || die "PostgreSQL is not answering at $admin_url and no local cluster was found in /etc/postgresql."
      log "starting local PostgreSQL $version cluster"
      pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    fi
    local deadline=$((SECONDS + 30))
    until pg_isready -q -d "$admin_url" 2>/dev/null; do
      [ $SECONDS -lt $deadline ] || die "PostgreSQL does not answer at $admin_url. Start it, or set DATABASE_URL to one that answers."
      sleep 1
    done
  fi
  if [ "$(psql "$admin_url" -Atqc "select 1 from pg_database where datname = '$db'")" != "1" ]; then
    log "creating database $db"
    psql "$admin_url" -qc "create database \"$db\"" >/dev/null
  fi
  log "postgres ready at $DATABASE_URL"
}

[ -d "$root/node_modules/kafkajs" ] || die "node_modules is missing: run npm install first."
require_tools
fetch_kafka
start_kafka
ensure_postgres
