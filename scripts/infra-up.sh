#!/usr/bin/env bash
# Brings up the local development infrastructure and returns once it works:
#   - Apache Kafka's own broker (KRaft, single node, 127.0.0.1:9092), resolved with Maven from
#     Maven Central into a cache outside the repo and started with a modest heap; it also listens
#     with SASL on :9094, TLS on :9095 and SASL over TLS on :9096 (docs/security.md);
#   - PostgreSQL at DATABASE_URL (the local cluster is started when it is down; the database is
#     created when missing), and a second one at SHARD_DATABASE_URL for the sharded-store tests
#     (Debian's pg_createcluster makes a cluster "shard" on port 5433 when none answers there);
#   - Debian's chromium for the console's browser tests, installed when missing (as root).
# Running it again while everything is up is a no-op, unless scripts/kafka/server.properties
# changed since the broker started: then the broker is restarted with the new settings.
#
# With `--brokers N` (2 to 9) it starts a local N-broker KRaft cluster instead of the single broker
# (clients on 127.0.0.1:19092 and up, see scripts/infra-cluster.sh), beside the single broker and
# without touching it, and prints its bootstrap list. Idempotent the same way: nodes not running
# are started (with their data), nodes whose scripts/kafka/cluster.properties changed restart.
set -euo pipefail

brokers=1
while [ $# -gt 0 ]; do
  case "$1" in
    --brokers) brokers="${2:-}"; shift 2 || { echo "[infra] error: --brokers needs a number" >&2; exit 1; } ;;
    --brokers=*) brokers="${1#*=}"; shift ;;
    *) echo "[infra] error: unknown argument '$1' (usage: infra-up.sh [--brokers N])" >&2; exit 1 ;;
  esac
done

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

# Development-only credentials, also written in scripts/kafka/server.properties and docs/security.md.
SCRAM_USER="tributary-scram"
SCRAM_PASSWORD="tributary-scram-secret"
KEYSTORE_PASSWORD="tributary-dev-keystore"

kafka_jvm=(-Xms128m -Xmx"${KAFKA_HEAP:-512m}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
  -Dlog4j2.configurationFile="$here/kafka/log4j2.properties" -Dkafka.logs.dir="$KAFKA_STATE/logs"
  -cp "$KAFKA_HOME/libs/*")

kafka_java() { java "${kafka_jvm[@]}" "$@"; }

kafka_pid() {
  [ -f "$KAFKA_STATE/broker.pid" ] || return 1
  local pid
  pid="$(cat "$KAFKA_STATE/broker.pid")"
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

roundtrip() { node "$here/kafka-roundtrip.js" "$KAFKA_BOOTSTRAP" "$@"; }

# Older versions of this script recorded a wrapper shell's pid instead of the broker's, so
# infra-down stopped the wrapper and left the broker running without a pid file. A broker
# running this state directory's server.properties is ours: record its pid again.
adopt_running_broker() {
  kafka_pid >/dev/null && return 0
  local pid
  pid="$(pgrep -f -- "kafka\.Kafka $KAFKA_STATE/server\.properties\$" | head -n1 || true)"
  [ -n "$pid" ] || return 0
  log "found the broker of $KAFKA_STATE running without a pid file (pid $pid); adopting it"
  echo "$pid" >"$KAFKA_STATE/broker.pid"
}

# The broker's own copy of server.properties: state paths filled in, log.dirs appended.
render_server_properties() {
  sed -e "s#@KAFKA_STATE@#$KAFKA_STATE#g" -e '/^log\.dirs=/d' "$here/kafka/server.properties" >"$1"
  echo "log.dirs=$KAFKA_STATE/data" >>"$1"
}

# A development CA and a broker certificate it signed (SAN 127.0.0.1 and localhost), made once:
# tls/broker.p12 is the broker's keystore, tls/ca.pem what clients trust (ssl.ca.location).
ensure_tls() {
  local dir="$KAFKA_STATE/tls"
  [ -f "$dir/broker.p12" ] && [ -f "$dir/ca.pem" ] && return 0
  command -v keytool >/dev/null 2>&1 ||
    die "keytool not found: it comes with the JDK (Debian: apt-get install openjdk-17-jdk-headless)."
  log "creating a development CA and broker certificate in $dir"
  local tmp pass="$KEYSTORE_PASSWORD"
  tmp="$(mktemp -d "$KAFKA_STATE/tls.XXXXXX")" && chmod 755 "$tmp"
  local kt=(keytool -noprompt -storetype PKCS12 -storepass "$pass" -keypass "$pass")
  "${kt[@]}" -genkeypair -alias ca -keyalg RSA -keysize 2048 -validity 3650 \
    -dname "CN=Tributary development CA" -ext bc:c -keystore "$tmp/ca.p12" >/dev/null 2>&1
  "${kt[@]}" -exportcert -rfc -alias ca -keystore "$tmp/ca.p12" -file "$tmp/ca.pem" >/dev/null 2>&1
  "${kt[@]}" -genkeypair -alias broker -keyalg RSA -keysize 2048 -validity 3650 \
    -dname "CN=127.0.0.1" -keystore "$tmp/broker.p12" >/dev/null 2>&1
  "${kt[@]}" -certreq -alias broker -keystore "$tmp/broker.p12" -file "$tmp/broker.csr" >/dev/null 2>&1
  "${kt[@]}" -gencert -alias ca -keystore "$tmp/ca.p12" -validity 3650 -rfc \
    -ext "SAN=ip:127.0.0.1,dns:localhost" -ext "EKU=serverAuth" \
    -infile "$tmp/broker.csr" -outfile "$tmp/broker.pem" >/dev/null 2>&1
  "${kt[@]}" -importcert -alias ca -file "$tmp/ca.pem" -keystore "$tmp/broker.p12" >/dev/null 2>&1
  "${kt[@]}" -importcert -alias broker -file "$tmp/broker.pem" -keystore "$tmp/broker.p12" >/dev/null 2>&1 ||
    die "keytool could not build the broker keystore in $tmp"
  rm -f "$tmp/broker.csr" "$tmp/broker.pem"
  rm -rf "$dir" && mv "$tmp" "$dir"
}

# SIGTERM to the broker (and to a wrapper shell an older version of this script left in the pid
# file), SIGKILL after 30 s.
stop_kafka() {
  local pid pids
  pid="$(kafka_pid)" || return 0
  pids="$pid $(pgrep -P "$pid" | tr '\n' ' ' || true)"
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  local started=$SECONDS deadline=$((SECONDS + 30)) alive
  while :; do
    alive=""
    for p in $pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
    [ -z "$alive" ] && break
    if [ $SECONDS -ge $deadline ]; then
      # shellcheck disable=SC2086
      kill -KILL $alive 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$KAFKA_STATE/broker.pid"
  log "kafka stopped after $((SECONDS - started))s"
}

launch_kafka() {
  mv "$1" "$KAFKA_STATE/server.properties"
  if [ ! -f "$KAFKA_STATE/data/meta.properties" ]; then
    log "formatting KRaft storage in $KAFKA_STATE/data"
    local cluster_id
    cluster_id="$(kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
    kafka_java kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_STATE/server.properties" >/dev/null
  fi
  log "starting kafka ${KAFKA_VERSION} on $KAFKA_BOOTSTRAP (log: $KAFKA_STATE/logs/server.log)"
  # java itself (not a wrapper shell) is what the pid file names; its own session keeps it out
  # of the caller's Ctrl-C.
  local detach=()
  command -v setsid >/dev/null 2>&1 && detach=(setsid)
  "${detach[@]}" java "${kafka_jvm[@]}" kafka.Kafka "$KAFKA_STATE/server.properties" \
    >"$KAFKA_STATE/logs/stdout.log" 2>&1 </dev/null 9>&- &
  echo $! >"$KAFKA_STATE/broker.pid"
}

# SCRAM users are cluster metadata: created through the broker once it runs. The marker names the
# cluster (a reformatted data directory has a new id) and the credentials.
ensure_scram_users() {
  local marker="$KAFKA_STATE/scram-users" want cluster_id
  cluster_id="$(sed -n 's/^cluster\.id=//p' "$KAFKA_STATE/data/meta.properties" 2>/dev/null)"
  want="$cluster_id $SCRAM_USER $(printf '%s' "$SCRAM_PASSWORD" | sha256sum | cut -c1-16)"
  [ -f "$marker" ] && [ "$(cat "$marker")" = "$want" ] && return 0
  log "creating SCRAM-SHA-256 and SCRAM-SHA-512 credentials for user $SCRAM_USER"
  # One mechanism per request: the broker refuses to alter one user twice in a request.
  local mechanism
  for mechanism in SCRAM-SHA-256 SCRAM-SHA-512; do
    kafka_java kafka.admin.ConfigCommand --bootstrap-server "$KAFKA_BOOTSTRAP" --alter \
      --entity-type users --entity-name "$SCRAM_USER" \
      --add-config "$mechanism=[password=$SCRAM_PASSWORD]" >/dev/null ||
      die "could not create the $mechanism credentials of $SCRAM_USER; see the error above"
  done
  echo "$want" >"$marker"
}

start_kafka() {
  mkdir -p "$KAFKA_STATE/logs"
  # One run at a time (several test runs may start together); the broker does not inherit it.
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$KAFKA_STATE/infra-up.lock"
    flock -w 300 9 || die "another infra-up has held $KAFKA_STATE/infra-up.lock for 5 minutes"
  fi
  local next="$KAFKA_STATE/server.properties.next"
  render_server_properties "$next"
  adopt_running_broker
  if kafka_pid >/dev/null; then
    if cmp -s "$next" "$KAFKA_STATE/server.properties"; then
      rm -f "$next"
      if roundtrip --quiet; then
        log "kafka already running on $KAFKA_BOOTSTRAP (pid $(kafka_pid))"
        ensure_scram_users
        return 0
      fi
    else
      log "scripts/kafka/server.properties changed since the broker started: restarting it"
      stop_kafka
    fi
  elif roundtrip --quiet; then
    rm -f "$next"
    log "a Kafka broker not started by this script already answers on $KAFKA_BOOTSTRAP; using it"
    return 0
  fi
  if ! kafka_pid >/dev/null; then
    ensure_tls
    launch_kafka "$next"
  fi
  local deadline=$((SECONDS + 90))
  until roundtrip --quiet; do
    kafka_pid >/dev/null || die "kafka exited during start; see $KAFKA_STATE/logs/stdout.log and server.log"
    [ $SECONDS -lt $deadline ] || die "kafka did not complete a produce/consume round trip within 90s; see $KAFKA_STATE/logs/"
    sleep 1
  done
  log "kafka ready: produce/consume round trip ok"
  ensure_scram_users
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
      pg_ctlcluster --skip-systemctl-redirect "$version" main start 8>&- 9>&- || true
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

# The second PostgreSQL, for the tests of `database.shards`: the local cluster "shard" (made with
# Debian's pg_createcluster on SHARD_DATABASE_URL's port, trust auth on 127.0.0.1, a small
# shared_buffers) is created or started when nothing answers there.
# The servers started here must not inherit the lock (fd 9) or the cluster lock (fd 8).
ensure_shard_postgres() {
  local admin_url="${SHARD_DATABASE_URL%/*}/postgres" db="${SHARD_DATABASE_URL##*/}"
  db="${db%%\?*}"
  if ! pg_isready -q -d "$admin_url" 2>/dev/null; then
    command -v pg_createcluster >/dev/null 2>&1 ||
      die "no PostgreSQL answers at $admin_url and pg_createcluster (Debian's postgresql-common) is missing: start a second PostgreSQL there, or set SHARD_DATABASE_URL to one that answers."
    local version port
    version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)"
    port="$(node -e 'console.log(new URL(process.argv[1]).port || 5432)' "$SHARD_DATABASE_URL")"
    if [ ! -d "/etc/postgresql/$version/shard" ]; then
      log "creating PostgreSQL $version cluster 'shard' on port $port"
      pg_createcluster "$version" shard --port "$port" -- --auth=trust >/dev/null ||
        die "pg_createcluster failed (it needs root): make a second PostgreSQL at $admin_url, or set SHARD_DATABASE_URL."
      printf "shared_buffers = 32MB\nlisten_addresses = '127.0.0.1'\n" \
        >"/etc/postgresql/$version/shard/conf.d/tributary.conf"
    fi
    log "starting PostgreSQL $version cluster 'shard'"
    pg_ctlcluster --skip-systemctl-redirect "$version" shard start 8>&- 9>&- || true
    local deadline=$((SECONDS + 30))
    until pg_isready -q -d "$admin_url" 2>/dev/null; do
      [ $SECONDS -lt $deadline ] || die "PostgreSQL does not answer at $admin_url after starting cluster 'shard'."
      sleep 1
    done
  fi
  if [ "$(psql "$admin_url" -Atqc "select 1 from pg_database where datname = '$db'")" != "1" ]; then
    psql "$admin_url" -qc "create database \"$db\"" >/dev/null
  fi
  log "second postgres (shard tests) ready at $SHARD_DATABASE_URL"
}

# shellcheck source=scripts/infra-cluster.sh
source "$here/infra-cluster.sh"

[ -d "$root/node_modules/kafkajs" ] || die "node_modules is missing: run npm install first."
[ "$brokers" = 1 ] || check_cluster_size "$brokers"
require_tools
fetch_kafka
if [ "$brokers" = 1 ]; then
  start_kafka
else
  start_cluster "$brokers"
fi
ensure_postgres
ensure_shard_postgres
bash "$here/ensure-chromium.sh"
