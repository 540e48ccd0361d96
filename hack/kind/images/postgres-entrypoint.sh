#!/usr/bin/env bash
# Entrypoint of the PostgreSQL image (hack/kind/images.sh), under tini. With no arguments, `postgres` or
# options (-c name=value ...): on an empty PGDATA makes a cluster whose superuser POSTGRES_USER (default
# postgres) has the password POSTGRES_PASSWORD and which has the database POSTGRES_DB (default POSTGRES_USER),
# reachable from any host with scram-sha-256, over TLS or not; then execs postgres in the foreground with the options given.
# Anything else (psql ..., bash ...) is exec'd as is.
set -o errexit -o nounset -o pipefail

if [[ $# -gt 0 && "$1" != postgres && "$1" != -* ]]; then exec "$@"; fi
[[ "${1:-}" != postgres ]] || shift

export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
mkdir -p "${PGDATA}"
# postgres insists on owning its data directory. A volume's root is not ours (an emptyDir with fsGroup is
# root:fsGroup, mode 2777), so then the cluster lives in a subdirectory of it, as the official image advises.
if [[ "$(stat -c %u "${PGDATA}")" != "$(id -u)" ]]; then
  echo "postgres-entrypoint: ${PGDATA} belongs to uid $(stat -c %u "${PGDATA}"), not $(id -u):" \
    "using ${PGDATA}/pgdata" >&2
  export PGDATA="${PGDATA}/pgdata"
  mkdir -p "${PGDATA}"
fi
chmod 0700 "${PGDATA}"

if [[ ! -s "${PGDATA}/PG_VERSION" ]]; then
  if [[ -z "${POSTGRES_PASSWORD:-}" ]]; then
    echo "postgres-entrypoint: POSTGRES_PASSWORD is empty; the data directory is not initialized" >&2
    exit 1
  fi
  export POSTGRES_USER="${POSTGRES_USER:-postgres}"
  export POSTGRES_DB="${POSTGRES_DB:-${POSTGRES_USER}}"
  # Local (socket) connections are trusted, as in the official image: only this container reaches the socket.
  initdb --username="${POSTGRES_USER}" --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >&2
  echo "host all all all scram-sha-256" >>"${PGDATA}/pg_hba.conf"
  # TLS with a self-signed certificate, so clients can use sslmode=require (as a cloud database asks).
  openssl req -new -x509 -days 3650 -nodes -subj "/CN=postgres" \
    -keyout "${PGDATA}/server.key" -out "${PGDATA}/server.crt" 2>/dev/null
  chmod 0600 "${PGDATA}/server.key"
  echo "ssl = on" >>"${PGDATA}/postgresql.conf"

  # Set the password and create the database through a server on a private socket only. The values reach
  # SQL through psql variables read from the environment (\getenv) and quoted by psql (:'x' literal,
  # :"x" identifier), so any character in them is safe and none shows in a process's arguments.
  sock="$(mktemp -d)"
  pg_ctl --wait --silent --options="-c listen_addresses='' -c unix_socket_directories='${sock}'" start >&2
  psql --no-psqlrc --quiet --host="${sock}" --username="${POSTGRES_USER}" --dbname=postgres \
    --set=ON_ERROR_STOP=1 <<'SQL'
\getenv pg_user POSTGRES_USER
\getenv pg_password POSTGRES_PASSWORD
\getenv pg_db POSTGRES_DB
ALTER ROLE :"pg_user" WITH PASSWORD :'pg_password';
SELECT NOT EXISTS (SELECT FROM pg_database WHERE datname = :'pg_db') AS create_db \gset
\if :create_db
CREATE DATABASE :"pg_db" OWNER :"pg_user";
\endif
SQL
  pg_ctl --wait --silent --mode=fast stop >&2
  rmdir "${sock}"
  echo "postgres-entrypoint: initialized ${PGDATA} (user ${POSTGRES_USER}, database ${POSTGRES_DB})" >&2
fi

exec postgres "$@"
