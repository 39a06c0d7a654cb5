# Shared by infra-up.sh, infra-down.sh and docker-base-images.sh. The broker's jars and its data
# live outside the repo so that a fresh clone reuses them.
KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
TRIBUTARY_CACHE="${TRIBUTARY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tributary}"
KAFKA_HOME="$TRIBUTARY_CACHE/kafka-$KAFKA_VERSION"
KAFKA_STATE="${TRIBUTARY_KAFKA_STATE:-$TRIBUTARY_CACHE/kafka-state}"
KAFKA_BOOTSTRAP="${KAFKA_BOOTSTRAP:-127.0.0.1:9092}"
DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tributary}"
# A second PostgreSQL (its own cluster, port 5433) for the tests of `database.shards`.
SHARD_DATABASE_URL="${SHARD_DATABASE_URL:-postgres://postgres@127.0.0.1:5433/tributary}"

# Resolves Apache Kafka's broker and its runtime classpath into $KAFKA_HOME/libs with Maven, once.
# The caller defines log and die.
fetch_kafka() {
  [ -f "$KAFKA_HOME/.complete" ] && return 0
  log "resolving Apache Kafka ${KAFKA_VERSION} with Maven into $KAFKA_HOME (first run only)"
  rm -rf "$KAFKA_HOME" && mkdir -p "$KAFKA_HOME"
  mvn -q -B -Dstyle.color=never -f "$(dirname "${BASH_SOURCE[0]}")/kafka/pom.xml" \
    -Dkafka.version="$KAFKA_VERSION" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$KAFKA_HOME/libs" ||
    die "Maven could not resolve org.apache.kafka:kafka_2.13:${KAFKA_VERSION}; check that Maven Central is reachable."
  touch "$KAFKA_HOME/.complete"
}
