#!/usr/bin/env bash
# Starts PostgreSQL as the postgres:15 image does, for its main variables: POSTGRES_USER (default
# postgres), POSTGRES_PASSWORD, POSTGRES_DB (default the user), POSTGRES_HOST_AUTH_METHOD (default
# scram-sha-256, which needs a password) and PGDATA. An empty PGDATA gets a new cluster that
# listens on all interfaces; the server runs as the postgres user.
set -euo pipefail
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" && chown postgres:postgres "$PGDATA" && chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ "${1:-}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  user="${POSTGRES_USER:-postgres}"
  db="${POSTGRES_DB:-$user}"
  auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != trust ]; then
    echo "error: POSTGRES_PASSWORD is not set: set it, or POSTGRES_HOST_AUTH_METHOD=trust to allow connections without a password" >&2
    exit 1
  fi
  pwfile="$(mktemp)"
  printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
  pwargs=()
  [ -n "${POSTGRES_PASSWORD:-}" ] && pwargs=(--pwfile="$pwfile")
  initdb --username="$user" "${pwargs[@]}" --auth-local=trust --auth-host="$auth" >/dev/null
  rm -f "$pwfile"
  printf 'host all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"
  printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
  if [ "$db" != postgres ]; then
    echo "CREATE DATABASE \"$db\"" | postgres --single -j -D "$PGDATA" postgres >/dev/null
  fi
  echo "initialized $PGDATA: user $user, database $db, host authentication $auth"
fi
exec "$@"
