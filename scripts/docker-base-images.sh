#!/usr/bin/env bash
# Builds, on a machine that reaches Debian's package mirror but no image registry, local stand-ins
# for the public base images of the Dockerfile and docker-compose.yml:
#   debian    Debian bookworm (minbase) made with debootstrap from the mirror this machine's apt
#             uses (/etc/apt/sources.list*, or DEBIAN_MIRROR), then `docker import`;
#   node      + this machine's Node.js 20+ (node, npm, corepack), user node, and the certificate
#             authorities this machine trusts (for npm), for node:20-bookworm-slim;
#   kafka     + Debian's openjdk-17-jre-headless and Apache Kafka's broker from the cache
#             scripts/infra-up.sh fills (Maven Central), configured like apache/kafka;
#   postgres  + Debian's postgresql-15, configured like postgres:15.
# The recipes are in scripts/docker/. Each tag carries the version it holds and a hash of what the
# image is made from (this script, its files in scripts/docker/): an image whose tag exists is
# reused, so a second run takes seconds, and older tags of these images are removed.
#
# Prints the build arguments and image variables of the compose file on stdout, one per line, and
# its progress on stderr:
#   export $(bash scripts/docker-base-images.sh) && docker compose up --build
# Needs root (debootstrap), a running Docker engine, debootstrap, and Maven the first time.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/infra-env.sh
source "$here/infra-env.sh"

log() { printf '[base-images] %s\n' "$*" >&2; }
die() { printf '[base-images] error: %s\n' "$*" >&2; exit 1; }

SUITE=bookworm
REPO=tributary-local
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

# The first URI apt uses for a suite, from the one-line (sources.list, *.list) and the deb822
# (*.sources) formats.
apt_source() {
  local suite="$1" f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v want="$suite" '
      $1 == "deb" {
        i = 2
        if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
        if ($(i + 1) == want) { print $i; exit }
      }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v want="$suite" '
      BEGIN { RS = "" }
      {
        uris = ""; suites = ""; types = ""; enabled = "yes"
        n = split($0, line, "\n")
        for (i = 1; i <= n; i++) {
          if (line[i] ~ /^#/ || !match(line[i], /^[A-Za-z-]+:/)) continue
          key = tolower(substr(line[i], 1, RLENGTH - 1)); value = substr(line[i], RLENGTH + 1)
          if (key == "uris") uris = value
          else if (key == "suites") suites = value
          else if (key == "types") types = value
          else if (key == "enabled") enabled = value
        }
        if (types !~ /(^| )deb( |$)/ || enabled ~ /no/) next
        ns = split(suites, s, " ")
        for (j = 1; j <= ns; j++) if (s[j] == want) { split(uris, u, " "); print u[1]; exit }
      }' "$f"
  done
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# Removes the other tags of a repository of ours (earlier versions of these recipes).
prune_older() {
  local repo="$1" keep="$2" tag
  for tag in $(docker image ls --format '{{.Repository}}:{{.Tag}}' "$repo"); do
    [ "$tag" = "$keep" ] || docker image rm "$tag" >/dev/null 2>&1 || true
  done
}

work=""
cleanup() { [ -z "$work" ] || rm -rf "$work"; }
trap cleanup EXIT

build_debian() {
  local tag="$1" mirror security updates
  mirror="${DEBIAN_MIRROR:-$(apt_source "$SUITE" | head -n1)}"
  [ -n "$mirror" ] ||
    die "no Debian $SUITE source in /etc/apt/sources.list*: set DEBIAN_MIRROR to a Debian mirror URL"
  updates="$(apt_source "$SUITE-updates" | head -n1)"
  security="$(apt_source "$SUITE-security" | head -n1)"
  if ! command -v debootstrap >/dev/null 2>&1; then
    log "installing Debian's debootstrap (first run only)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap \
      >"$work/apt-debootstrap.log" 2>&1 ||
      die "could not install debootstrap (log: $work/apt-debootstrap.log)"
  fi
  local root="$work/rootfs"
  log "debootstrap $SUITE (minbase) from $mirror"
  debootstrap --variant=minbase "$SUITE" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 20 "$work/debootstrap.log" >&2
    die "debootstrap failed (above: the end of its log)"
  }
  {
    echo "deb $mirror $SUITE main"
    [ -z "$updates" ] || echo "deb $updates $SUITE-updates main"
    [ -z "$security" ] || echo "deb $security $SUITE-security main"
  } >"$root/etc/apt/sources.list"
  # As Debian's own container images: no services started by package scripts, no documentation.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod +x "$root/usr/sbin/policy-rc.d"
  printf 'path-exclude /usr/share/doc/*\npath-include /usr/share/doc/*/copyright\npath-exclude /usr/share/man/*\npath-exclude /usr/share/locale/*\n' \
    >"$root/etc/dpkg/dpkg.cfg.d/excludes"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* \
    "$root"/usr/share/man/*
  # Java's package links its manual page there, excluded or not.
  mkdir -p "$root/usr/share/man/man1"
  tar -C "$root" -c . | docker import -c 'ENV LANG=C.UTF-8' -c 'CMD ["bash"]' - "$tag" >/dev/null
  rm -rf "$root"
}

# The Node.js installation that runs here: its binary and the npm and corepack beside it.
build_node() {
  local tag="$1" base="$2" node prefix ctx="$work/node"
  node="$(node -p process.execPath)"
  prefix="$(dirname "$(dirname "$node")")"
  mkdir -p "$ctx/node/bin" "$ctx/node/lib/node_modules"
  cp "$node" "$ctx/node/bin/node"
  cp -a "$prefix/lib/node_modules/npm" "$ctx/node/lib/node_modules/"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ctx/node/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ctx/node/bin/npx"
  if [ -d "$prefix/lib/node_modules/corepack" ]; then
    cp -a "$prefix/lib/node_modules/corepack" "$ctx/node/lib/node_modules/"
    ln -s ../lib/node_modules/corepack/dist/corepack.js "$ctx/node/bin/corepack"
  fi
  cp "$CA_BUNDLE" "$ctx/ca-certificates.crt"
  cp "$here/docker/node.Dockerfile" "$ctx/Dockerfile"
  docker build --build-arg BASE_IMAGE="$base" -t "$tag" "$ctx" >&2
}

build_kafka() {
  local tag="$1" base="$2" ctx="$work/kafka" tools="$TRIBUTARY_CACHE/kafka-tools-$KAFKA_VERSION"
  fetch_kafka
  # kafka-topics.sh needs Kafka's tools module, which the broker does not pull: one more jar.
  if [ ! -f "$tools/kafka-tools-$KAFKA_VERSION.jar" ]; then
    log "resolving kafka-tools $KAFKA_VERSION with Maven into $tools"
    mvn -q -B -Dstyle.color=never dependency:copy \
      -Dartifact="org.apache.kafka:kafka-tools:$KAFKA_VERSION:jar" -DoutputDirectory="$tools" >&2 ||
      die "Maven could not resolve org.apache.kafka:kafka-tools:$KAFKA_VERSION; check that Maven Central is reachable."
  fi
  mkdir -p "$ctx/libs"
  cp "$KAFKA_HOME"/libs/*.jar "$tools/kafka-tools-$KAFKA_VERSION.jar" "$ctx/libs/"
  cp "$here/docker/kafka.Dockerfile" "$ctx/Dockerfile"
  cp "$here/docker/kafka-run" "$here/docker/kafka-topics.sh" "$here/docker/kafka-log4j2.yaml" \
    "$here/docker/kafka-tools-log4j2.yaml" "$ctx/"
  docker build --build-arg BASE_IMAGE="$base" -t "$tag" "$ctx" >&2
}

build_postgres() {
  local tag="$1" base="$2" ctx="$work/postgres"
  mkdir -p "$ctx"
  cp "$here/docker/postgres.Dockerfile" "$ctx/Dockerfile"
  cp "$here/docker/postgres-entrypoint.sh" "$ctx/"
  docker build --build-arg BASE_IMAGE="$base" -t "$tag" "$ctx" >&2
}

# ensure <name> <tag> <build function> [args]: builds the image unless its tag exists.
ensure() {
  local name="$1" tag="$2" build="$3" started=$SECONDS
  shift 3
  if image_exists "$tag"; then
    log "$name: $tag (exists)"
  else
    log "$name: building $tag"
    work="$(mktemp -d "${TMPDIR:-/tmp}/tributary-base-images.XXXXXX")"
    "$build" "$tag" "$@"
    rm -rf "$work" && work=""
    log "$name: built $tag in $((SECONDS - started))s"
  fi
  prune_older "${tag%:*}" "$tag"
}

docker info >/dev/null 2>&1 ||
  die "the Docker engine does not answer (docker info): start it (as root: dockerd &) and run this again"

node_version="$(node --version)"
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] ||
  die "node $node_version is too old for the node image: Node.js 20 or newer runs here first"
[ -f "$CA_BUNDLE" ] ||
  die "$CA_BUNDLE not found: install Debian's ca-certificates (the node image trusts what this machine trusts)"

# The part of a tag that changes with what the image is made from.
recipe() { cat "${BASH_SOURCE[0]}" "$@" | sha256sum | cut -c1-12; }
debian="$REPO/debian:$SUITE-$(recipe)"
node="$REPO/node:${node_version#v}-$SUITE-$(recipe "$here/docker/node.Dockerfile" "$CA_BUNDLE")"
kafka="$REPO/kafka:$KAFKA_VERSION-$SUITE-$(recipe "$here/infra-env.sh" "$here"/docker/kafka*)"
postgres="$REPO/postgres:15-$SUITE-$(recipe "$here"/docker/postgres*)"
if ! image_exists "$node" || ! image_exists "$kafka" || ! image_exists "$postgres"; then
  [ "$(id -u)" = 0 ] || image_exists "$debian" ||
    die "debootstrap needs root: run this as root (sudo) once; later runs reuse the images"
  ensure debian "$debian" build_debian
fi
# Also when no image needed it.
prune_older "${debian%:*}" "$debian"
ensure node "$node" build_node "$debian"
ensure kafka "$kafka" build_kafka "$debian"
ensure postgres "$postgres" build_postgres "$debian"

echo "NODE_IMAGE=$node"
echo "KAFKA_IMAGE=$kafka"
echo "POSTGRES_IMAGE=$postgres"
