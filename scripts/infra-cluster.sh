# The local multi-broker KRaft cluster of `npm run infra:up -- --brokers N` (N from 2 to 9):
# N nodes, each broker and controller, from the same Apache Kafka artifact as the single broker
# but a separate cluster with its own state, beside it:
#   node i: clients on 127.0.0.1:(19091+i), controller on 127.0.0.1:(19191+i),
#           state in $KAFKA_CLUSTER_STATE/node-i (data, logs, server.properties, broker.pid).
# Each node runs with a heap of KAFKA_HEAP (default 256m). Sourced by infra-up.sh and
# infra-down.sh, which define log, die and here (the scripts directory).

KAFKA_CLUSTER_STATE="${TRIBUTARY_KAFKA_CLUSTER_STATE:-$TRIBUTARY_CACHE/kafka-cluster}"
CLUSTER_CLIENT_BASE=19091
CLUSTER_CONTROLLER_BASE=19191

check_cluster_size() {
  [[ "$1" =~ ^[2-9]$ ]] || die "--brokers takes a number from 1 to 9; got '$1'"
}

cluster_bootstrap() {
  local n="$1" i list=""
  for ((i = 1; i <= n; i++)); do list="${list:+$list,}127.0.0.1:$((CLUSTER_CLIENT_BASE + i))"; done
  echo "$list"
}

node_dir() { echo "$KAFKA_CLUSTER_STATE/node-$1"; }

node_pid() {
  local file
  file="$(node_dir "$1")/broker.pid"
  [ -f "$file" ] || return 1
  local pid
  pid="$(cat "$file")"
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# The size the running (or last started) cluster was made with: nodes of another size would not
# form one quorum with it.
recorded_cluster_size() { cat "$KAFKA_CLUSTER_STATE/size" 2>/dev/null || true; }

running_cluster_nodes() {
  local dir i
  for dir in "$KAFKA_CLUSTER_STATE"/node-*; do
    [ -d "$dir" ] || continue
    i="${dir##*-}"
    node_pid "$i" >/dev/null && echo "$i"
  done
  return 0
}

# SIGTERM to every running node at once (a controlled shutdown needs the quorum, so they go
# together), SIGKILL to any left after 30 s.
stop_cluster() {
  local pids="" i
  for i in $(running_cluster_nodes); do pids="$pids $(node_pid "$i")"; done
  if [ -z "$pids" ]; then
    log "kafka cluster ($KAFKA_CLUSTER_STATE) is not running"
    rm -f "$KAFKA_CLUSTER_STATE"/node-*/broker.pid
    return 0
  fi
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  local started=$SECONDS deadline=$((SECONDS + 30)) alive p
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
  rm -f "$KAFKA_CLUSTER_STATE"/node-*/broker.pid
  log "kafka cluster stopped after $((SECONDS - started))s"
}

render_node_properties() {
  local n="$1" i="$2" out="$3" voters="" j
  for ((j = 1; j <= n; j++)); do
    voters="${voters:+$voters,}$j@127.0.0.1:$((CLUSTER_CONTROLLER_BASE + j))"
  done
  local rf=$((n < 3 ? n : 3))
  local min_isr=$((rf < 2 ? 1 : 2))
  sed -e "s#@NODE_ID@#$i#g" -e "s#@VOTERS@#$voters#g" \
    -e "s#@CLIENT_PORT@#$((CLUSTER_CLIENT_BASE + i))#g" \
    -e "s#@CONTROLLER_PORT@#$((CLUSTER_CONTROLLER_BASE + i))#g" \
    -e "s#@DATA_DIR@#$(node_dir "$i")/data#g" \
    -e "s#@REPLICATION_FACTOR@#$rf#g" -e "s#@MIN_ISR@#$min_isr#g" \
    "$here/kafka/cluster.properties" >"$out"
}

launch_node() {
  local i="$1" dir
  dir="$(node_dir "$i")"
  mv "$dir/server.properties.next" "$dir/server.properties"
  local jvm=(-Xms128m -Xmx"${KAFKA_HEAP:-256m}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -Dlog4j2.configurationFile="$here/kafka/log4j2.properties" -Dkafka.logs.dir="$dir/logs"
    -cp "$KAFKA_HOME/libs/*")
  if [ ! -f "$dir/data/meta.properties" ]; then
    log "formatting KRaft storage of node $i in $dir/data"
    java "${jvm[@]}" kafka.tools.StorageTool format -t "$(cat "$KAFKA_CLUSTER_STATE/cluster.id")" \
      -c "$dir/server.properties" >/dev/null ||
      die "could not format the storage of node $i; see the error above"
  fi
  log "starting node $i on 127.0.0.1:$((CLUSTER_CLIENT_BASE + i)) (log: $dir/logs/server.log)"
  local detach=()
  command -v setsid >/dev/null 2>&1 && detach=(setsid)
  "${detach[@]}" java "${jvm[@]}" kafka.Kafka "$dir/server.properties" \
    >"$dir/logs/stdout.log" 2>&1 </dev/null 8>&- 9>&- &
  echo $! >"$dir/broker.pid"
}

# Starts the nodes that are not running (a node SIGKILLed by a test comes back with its data) and
# restarts those whose properties changed; returns once a round trip works and all N brokers are
# registered.
start_cluster() {
  local n="$1" bootstrap i
  bootstrap="$(cluster_bootstrap "$n")"
  mkdir -p "$KAFKA_CLUSTER_STATE"
  if command -v flock >/dev/null 2>&1; then
    exec 8>"$KAFKA_CLUSTER_STATE/infra-up.lock"
    flock -w 300 8 || die "another infra-up has held $KAFKA_CLUSTER_STATE/infra-up.lock for 5 minutes"
  fi
  local recorded
  recorded="$(recorded_cluster_size)"
  if [ -n "$recorded" ] && [ "$recorded" != "$n" ]; then
    [ -z "$(running_cluster_nodes)" ] ||
      die "a $recorded-broker cluster is running from $KAFKA_CLUSTER_STATE; stop it first (npm run infra:down -- --brokers $recorded)"
    log "replacing the stopped $recorded-broker cluster in $KAFKA_CLUSTER_STATE with a $n-broker one"
    rm -rf "$KAFKA_CLUSTER_STATE"/node-* "$KAFKA_CLUSTER_STATE/cluster.id"
  fi
  echo "$n" >"$KAFKA_CLUSTER_STATE/size"
  if [ ! -f "$KAFKA_CLUSTER_STATE/cluster.id" ]; then
    java -cp "$KAFKA_HOME/libs/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1 \
      >"$KAFKA_CLUSTER_STATE/cluster.id"
  fi
  local changed="" started=""
  for ((i = 1; i <= n; i++)); do
    local dir
    dir="$(node_dir "$i")"
    mkdir -p "$dir/logs" "$dir/data"
    render_node_properties "$n" "$i" "$dir/server.properties.next"
    if node_pid "$i" >/dev/null; then
      if cmp -s "$dir/server.properties.next" "$dir/server.properties"; then
        rm -f "$dir/server.properties.next"
      else
        changed="$changed $i"
      fi
    fi
  done
  if [ -n "$changed" ]; then
    log "scripts/kafka/cluster.properties changed since nodes$changed started: restarting the cluster"
    stop_cluster
  fi
  for ((i = 1; i <= n; i++)); do
    if ! node_pid "$i" >/dev/null; then
      [ -f "$(node_dir "$i")/server.properties.next" ] ||
        render_node_properties "$n" "$i" "$(node_dir "$i")/server.properties.next"
      launch_node "$i"
      started="$started $i"
    fi
  done
  [ -z "$started" ] && log "kafka cluster already running ($n brokers)"
  local deadline=$((SECONDS + 120))
  until node "$here/kafka-roundtrip.js" "$bootstrap" --quiet --expect-brokers "$n"; do
    for ((i = 1; i <= n; i++)); do
      node_pid "$i" >/dev/null ||
        die "node $i exited during start; see $(node_dir "$i")/logs/stdout.log and server.log"
    done
    [ $SECONDS -lt $deadline ] ||
      die "the cluster did not register $n brokers and complete a round trip within 120s; see $KAFKA_CLUSTER_STATE/node-*/logs/"
    sleep 1
  done
  log "kafka cluster ready: $n brokers registered, produce/consume round trip ok"
  log "bootstrap: $bootstrap"
}
