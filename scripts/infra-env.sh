# Shared by infra-up.sh and infra-down.sh. The broker's jars and its data live outside the repo
# so that a fresh clone reuses them.
KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
TRIBUTARY_CACHE="${TRIBUTARY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tributary}"
KAFKA_HOME="$TRIBUTARY_CACHE/kafka-$KAFKA_VERSION"
KAFKA_STATE="${TRIBUTARY_KAFKA_STATE:-$TRIBUTARY_CACHE/kafka-state}"
KAFKA_BOOTSTRAP="${KAFKA_BOOTSTRAP:-127.0.0.1:9092}"
DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tributary}"
