#!/usr/bin/env bash
# The real-Airflow tests' own PostgreSQL and Redis: Debian's packages, started on loopback on
# fixed non-default ports with their data under the cache, never as system services.
#
# Usage:
#   hack/airflow/services.sh start   install (apt-get, only what is missing), start both, create the
#                                    role `airflow` (password below) and the databases airflow,
#                                    airflow_uri (connectionSecret case) and airflow_scratch
#   hack/airflow/services.sh stop    stop both; no process of theirs is left
#   hack/airflow/services.sh start HOLDER_PID / release HOLDER_PID
#                                    shared use: `start PID` also records PID as a holder; `release PID`
#                                    drops it and stops both only when no live holder is left, so two
#                                    test sessions on one machine don't stop each other's services
#   hack/airflow/services.sh env     print `export` lines (PG host/port/user/password, REDIS URL)
#   hack/airflow/services.sh status  exit 0 when both answer
# Env: AIRKUBE_CACHE (default ~/.cache/airkube); AIRKUBE_PG_PORT (55432), AIRKUBE_REDIS_PORT (56379).
#
# PostgreSQL refuses to run as root, so it runs as Debian's `postgres` user. Its data dir is
# ${AIRKUBE_CACHE}/services/postgres, which that user can't reach when the cache is under a
# private $HOME (/root is 0700): the server is therefore started in its own mount namespace
# (`unshare --mount`) where the data dir is bind-mounted at /run/airkube-pg, a path it can reach.
# The namespace lives exactly as long as the server; `stop` signals the postmaster by the pid in
# its postmaster.pid (a fast shutdown) and waits for it to exit. MySQL/MariaDB is not started:
# Debian 12 ships only MariaDB, which Airflow does not support as a metadata database.
set -o errexit -o nounset -o pipefail

CACHE_ROOT="${AIRKUBE_CACHE:-${HOME}/.cache/airkube}"
SVC="${CACHE_ROOT}/services"
PG_PORT="${AIRKUBE_PG_PORT:-55432}"
REDIS_PORT="${AIRKUBE_REDIS_PORT:-56379}"
PG_USER=airflow
PG_PASSWORD='p@ss:w/rd%#?&'
REDIS_PASSWORD='r3d!s:p@ss/word'
PG_DIR="${SVC}/postgres"          # data in ${PG_DIR}/data, log in ${PG_DIR}/log
PG_MNT=/run/airkube-pg            # where the server sees PG_DIR (inside its mount namespace)
REDIS_DIR="${SVC}/redis"

log() { echo "services.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x "${d}/pg_ctl" ]] && { echo "${d}"; return 0; }
  done
  return 1
}

# apt_install PKG...: through hack/tools/apt-install.sh (one install at a time on this machine, no
# system-wide postgres/redis service started by Debian's maintainer scripts).
apt_install() {
  "$(dirname "${BASH_SOURCE[0]}")/../tools/apt-install.sh" "$@"
}

ensure_packages() {
  local want=()
  pg_bin >/dev/null || want+=(postgresql)
  command -v psql >/dev/null || want+=(postgresql-client)
  command -v redis-server >/dev/null || want+=(redis-server)
  command -v redis-cli >/dev/null || want+=(redis-tools)
  command -v unshare >/dev/null || want+=(util-linux)
  if [[ ${#want[@]} -gt 0 ]]; then apt_install "${want[@]}"; fi
  pg_bin >/dev/null || die "no PostgreSQL server binaries after install"
  id postgres >/dev/null 2>&1 || die "no 'postgres' user (Debian's postgresql package creates it)"
}

pg_pid() {
  local f="${PG_DIR}/data/postmaster.pid" pid
  [[ -f "${f}" ]] || return 1
  pid="$(head -1 "${f}")"
  [[ -n "${pid}" ]] && kill -0 "${pid}" 2>/dev/null && echo "${pid}"
}

redis_pid() {
  local pid
  [[ -f "${REDIS_DIR}/redis.pid" ]] || return 1
  pid="$(cat "${REDIS_DIR}/redis.pid")"
  [[ -n "${pid}" ]] && kill -0 "${pid}" 2>/dev/null && echo "${pid}"
}

psql_admin() {
  PGPASSWORD='' psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "${PG_PORT}" -U postgres -d postgres "$@"
}

start_postgres() {
  local bin; bin="$(pg_bin)"
  mkdir -p "${PG_DIR}"
  chown postgres:postgres "${PG_DIR}"
  if pg_pid >/dev/null; then log "postgres already running on ${PG_PORT}"; return 0; fi
  # The whole server lifecycle happens in a private mount namespace where PG_DIR is at PG_MNT.
  # `pg_ctl -w start` returns when the server accepts connections; the postmaster keeps the
  # namespace alive. A stale postmaster.pid from a killed run is removed by postgres itself.
  local script
  script="set -e
mkdir -p ${PG_MNT}
mount --bind '${PG_DIR}' ${PG_MNT}
if [ ! -f ${PG_MNT}/data/PG_VERSION ]; then
  runuser -u postgres -- '${bin}/initdb' -D ${PG_MNT}/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >${PG_MNT}/initdb.log 2>&1 || { cat ${PG_MNT}/initdb.log >&2; exit 1; }
fi
exec runuser -u postgres -- '${bin}/pg_ctl' -D ${PG_MNT}/data -l ${PG_MNT}/log -w -t 60 \
  -o '-c listen_addresses=127.0.0.1 -c port=${PG_PORT} -c unix_socket_directories=${PG_MNT} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200' start"
  log "starting postgres on 127.0.0.1:${PG_PORT} (data ${PG_DIR}/data)"
  # 7>&-: the daemon must not inherit (and so hold forever) this script's lock.
  unshare --mount --propagation private -- /bin/sh -c "${script}" >&2 7>&- || { tail -30 "${PG_DIR}/log" >&2 || true; die "postgres did not start"; }
  pg_pid >/dev/null || die "postgres started but no postmaster.pid"
  # Trust is for loopback only and this cluster is the tests' own; the `airflow` role still
  # logs in with its password (scram) so the URI's encoding is exercised for real.
  psql_admin <<SQL
SET password_encryption = 'scram-sha-256';
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${PG_USER}') THEN
    CREATE ROLE ${PG_USER} LOGIN;
  END IF;
END \$\$;
ALTER ROLE ${PG_USER} PASSWORD '${PG_PASSWORD//\'/\'\'}';
SQL
  local db
  for db in airflow airflow_uri airflow_scratch; do
    if [[ -z "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname='${db}'")" ]]; then
      psql_admin -c "CREATE DATABASE ${db} OWNER ${PG_USER}"
    fi
  done
  # Password auth for the airflow role (everything else: trust, loopback only).
  local hba="${PG_DIR}/data/pg_hba.conf"
  if ! grep -q '^# airkube' "${hba}"; then
    {
      echo "# airkube: the test role must use its password"
      echo "host all ${PG_USER} 127.0.0.1/32 scram-sha-256"
      echo "host all all 127.0.0.1/32 trust"
      echo "local all all trust"
    } >"${hba}.new"
    mv "${hba}.new" "${hba}"; chown postgres:postgres "${hba}"
    kill -HUP "$(pg_pid)" 7>&-
    sleep 0.5
  fi
}

start_redis() {
  mkdir -p "${REDIS_DIR}"
  if redis_pid >/dev/null; then log "redis already running on ${REDIS_PORT}"; return 0; fi
  log "starting redis on 127.0.0.1:${REDIS_PORT}"
  redis-server --bind 127.0.0.1 --port "${REDIS_PORT}" --daemonize yes --requirepass "${REDIS_PASSWORD}" \
    --dir "${REDIS_DIR}" --pidfile "${REDIS_DIR}/redis.pid" --logfile "${REDIS_DIR}/redis.log" \
    --save '' --appendonly no >&2 7>&-
  for _ in $(seq 50); do
    if REDISCLI_AUTH="${REDIS_PASSWORD}" redis-cli -h 127.0.0.1 -p "${REDIS_PORT}" ping 2>/dev/null | grep -q PONG; then
      return 0
    fi
    sleep 0.1
  done
  die "redis did not answer on ${REDIS_PORT} (log: ${REDIS_DIR}/redis.log)"
}

# wait_gone PID: wait up to 30s for PID to exit, then SIGKILL it.
wait_gone() {
  local pid="$1"
  for _ in $(seq 300); do
    kill -0 "${pid}" 2>/dev/null || return 0
    sleep 0.1
  done
  log "pid ${pid} still running after 30s: SIGKILL"
  kill -KILL "${pid}" 2>/dev/null || true
}

stop_all() {
  local pid
  if pid="$(pg_pid)"; then
    log "stopping postgres (pid ${pid})"
    kill -INT "${pid}" 2>/dev/null || true   # fast shutdown: ends every backend, then exits
    wait_gone "${pid}"
  fi
  if pid="$(redis_pid)"; then
    log "stopping redis (pid ${pid})"
    kill -TERM "${pid}" 2>/dev/null || true
    wait_gone "${pid}"
    rm -f "${REDIS_DIR}/redis.pid"
  fi
  rmdir "${PG_MNT}" 2>/dev/null || true   # the (empty) mount point start created
}

urlenc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

print_env() {

  q() { printf '%q' "$1"; }
  echo "export AIRKUBE_PG_HOST=127.0.0.1"
  echo "export AIRKUBE_PG_PORT=${PG_PORT}"
  echo "export AIRKUBE_PG_USER=${PG_USER}"
  echo "export AIRKUBE_PG_PASSWORD=$(q "${PG_PASSWORD}")"
  echo "export AIRKUBE_PG_DATABASES=airflow,airflow_uri,airflow_scratch"
  echo "export AIRKUBE_REDIS_PASSWORD=$(q "${REDIS_PASSWORD}")"
  echo "export AIRKUBE_REDIS_URL=$(q "redis://:$(urlenc "${REDIS_PASSWORD}")@127.0.0.1:${REDIS_PORT}/0")"
}

HOLDERS="${SVC}/holders"

# live_holders: the recorded holder pids still running (dead ones are dropped).
live_holders() {
  local f pid n=0
  for f in "${HOLDERS}"/*; do
    [[ -e "${f}" ]] || continue
    pid="${f##*/}"
    if kill -0 "${pid}" 2>/dev/null; then n=$((n + 1)); else rm -f "${f}"; fi
  done
  echo "${n}"
}

mkdir -p "${SVC}" "${HOLDERS}"
exec 7>"${SVC}/.lock"
case "${1:-}" in
  start)
    flock 7
    ensure_packages
    start_postgres
    start_redis
    if [[ -n "${2:-}" ]]; then touch "${HOLDERS}/${2}"; fi
    log "ready: postgres 127.0.0.1:${PG_PORT}, redis 127.0.0.1:${REDIS_PORT}"
    ;;
  release)
    [[ -n "${2:-}" ]] || die "usage: $0 release HOLDER_PID"
    flock 7
    rm -f "${HOLDERS}/${2}"
    n="$(live_holders)"
    if [[ "${n}" == "0" ]]; then stop_all; else log "still used by ${n} other test session(s): left running"; fi
    ;;
  stop) flock 7; rm -f "${HOLDERS}"/*; stop_all ;;
  env) print_env ;;
  status)
    pg_pid >/dev/null && redis_pid >/dev/null
    ;;
  *) die "usage: $0 start|stop|env|status" ;;
esac
