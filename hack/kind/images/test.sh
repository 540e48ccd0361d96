#!/usr/bin/env bash
# Smoke-tests the images of hack/kind/images.sh with `docker run` (builds them first, cached): each Airflow
# image as its own user, as 50000:0 and as an arbitrary uid with gid 0 (OpenShift-like); gfortran in the Fortran
# image; PostgreSQL reached from another container with a password full of URL and SQL metacharacters, on an
# emptyDir-like volume, stopped and started again; Redis PING with its password; and `airflow db migrate` of
# both Airflow versions against that PostgreSQL. Removes every container it starts.
#
#   hack/kind/images/test.sh [KEY...]      (KEYs as in images.sh; default all)
set -o errexit -o nounset -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
refs="$("${ROOT}/hack/kind/images.sh" "$@" | grep -E '^[A-Z0-9_]+=airkube\.local/[^ ]+$')"
eval "${refs}"

containers=() work="$(mktemp -d)"
cleanup() {
  (( ${#containers[@]} )) && docker rm -f -v "${containers[@]}" >/dev/null 2>&1
  rm -rf "${work}"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*" >&2; }
# expect WANT CMD... : run CMD, fail unless its output contains WANT
expect() {
  local want="$1" got; shift
  got="$("$@" 2>&1)" || fail "$* exited $?: ${got}"
  [[ "${got}" == *"${want}"* ]] || fail "$*: want '${want}' in: ${got}"
}
# pid1 CONTAINER: "<comm of pid 1> <comm of its children>" (the postgres and redis images have no ps)
pid1() { docker exec "$1" sh -c 'cat /proc/1/comm; for p in $(cat /proc/1/task/1/children); do cat /proc/$p/comm; done' | tr '\n' ' '; }
ip_of() { docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1"; }

# The password the Helm chart must survive: URL delimiters, % and both quote characters.
PW="p@ss:w/rd%#?&'\""
PW_URL="$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "${PW}")"

test_airflow() { # test_airflow REF VERSION
  local ref="$1" version="$2" u
  for u in "" "--user=50000:0" "--user=12345:0"; do
    expect "${version}" docker run --rm ${u} "${ref}" airflow version
    expect "imports ok" docker run --rm ${u} "${ref}" python -W ignore -c \
      'import airflow.providers.cncf.kubernetes, airflow.providers.celery, psycopg2, MySQLdb; print("imports ok")'
    # args through a shell, as a pod's `args: ["bash", "-c", ...]`; AIRFLOW_HOME must be writable by gid 0.
    # shellcheck disable=SC2016 # expanded by the container's bash
    expect "writable" docker run --rm ${u} "${ref}" bash -c 'touch "${AIRFLOW_HOME}/logs/x" && echo writable'
    ok "${ref} ${u:-as its USER}: airflow ${version}, imports, AIRFLOW_HOME writable"
  done
  expect "1 tini" docker run --rm "${ref}" ps -o pid=,comm= -p 1
  expect "uid=50000(airflow) gid=0(root)" docker run --rm "${ref}" id
}

if [[ -n "${AIRFLOW_3_3_2:-}" ]]; then test_airflow "${AIRFLOW_3_3_2}" 3.3.2; fi
if [[ -n "${AIRFLOW_2_11_2:-}" ]]; then test_airflow "${AIRFLOW_2_11_2}" 2.11.2; fi
if [[ -n "${AIRFLOW_3_3_2_FORTRAN:-}" ]]; then
  test_airflow "${AIRFLOW_3_3_2_FORTRAN}" 3.3.2
  for u in "" "--user=12345:0"; do
    expect "Hello from Fortran" docker run --rm ${u} -w /tmp "${AIRFLOW_3_3_2_FORTRAN}" bash -c '
      printf "program hello\n  print *, \"Hello from Fortran\"\nend program hello\n" >hello.f90
      gfortran hello.f90 -o hello && ./hello'
  done
  ok "${AIRFLOW_3_3_2_FORTRAN}: gfortran compiles and runs hello.f90 as 50000 and 12345"
fi

if [[ -n "${POSTGRES:-}" ]]; then
  uid="$(docker image inspect -f '{{.Config.User}}' "${POSTGRES}")"
  # An emptyDir with fsGroup 4242: root-owned, group 4242, mode 2777; the pod's user gets group 4242 too.
  mkdir -p "${work}/pgvol" && chown 0:4242 "${work}/pgvol" && chmod 2777 "${work}/pgvol"
  pg="$(docker run -d --user "${uid}" --group-add 4242 -v "${work}/pgvol:/var/lib/postgresql/data" \
    -e POSTGRES_USER=airflow -e POSTGRES_DB=airflow -e POSTGRES_PASSWORD="${PW}" "${POSTGRES}")"
  containers+=("${pg}")
  pg_wait() {
    for _ in $(seq 120); do docker exec "$1" pg_isready -q -h 127.0.0.1 && return 0; sleep 0.5; done
    docker logs "$1" >&2; fail "postgres did not get ready"
  }
  pg_wait "${pg}"
  pgip="$(ip_of "${pg}")"
  expect "airflow|airflow" docker run --rm -e PGPASSWORD="${PW}" "${POSTGRES}" \
    psql -h "${pgip}" -U airflow -d airflow -tAc 'SELECT current_user, current_database()'
  expect "SCRAM-SHA-256" docker run --rm --network "container:${pg}" "${POSTGRES}" \
    psql "postgresql://airflow:${PW_URL}@127.0.0.1:5432/airflow" -tAc \
    "SELECT left(rolpassword, 13) FROM pg_authid WHERE rolname = 'airflow'"
  if docker run --rm -e PGPASSWORD=wrong "${POSTGRES}" psql -h "${pgip}" -U airflow -d airflow -c 'SELECT 1' >/dev/null 2>&1; then
    fail "postgres accepted a wrong password"
  fi
  [[ "$(pid1 "${pg}")" == "tini postgres " ]] || fail "postgres container: pid 1 and children are $(pid1 "${pg}")"
  ok "${POSTGRES}: initialized on an fsGroup volume as ${uid}, password auth over TCP (URL and PGPASSWORD), wrong password refused"
  # Stop with a client still connected (Airflow keeps pooled connections): the image's STOPSIGNAL SIGINT makes
  # it a fast shutdown; SIGTERM's smart shutdown would wait for the client until docker's SIGKILL (exit 137).
  client="$(docker run -d -e PGPASSWORD="${PW}" "${POSTGRES}" psql -h "${pgip}" -U airflow -d airflow -c 'SELECT pg_sleep(600)')"
  containers+=("${client}")
  sleep 1
  t0=${SECONDS}; docker stop "${pg}" >/dev/null
  [[ "$(docker inspect -f '{{.State.ExitCode}}' "${pg}")" == 0 ]] || fail "postgres exited non-zero on stop"
  expect "database system is shut down" docker logs "${pg}"
  ok "${POSTGRES}: stopped cleanly in $((SECONDS - t0)) s with a client connected"
  docker start "${pg}" >/dev/null; pg_wait "${pg}"
  expect "1" docker run --rm -e PGPASSWORD="${PW}" "${POSTGRES}" psql -h "$(ip_of "${pg}")" -U airflow -d airflow -tAc 'SELECT 1'
  ok "${POSTGRES}: restarted on the same data"
  if docker run --rm "${POSTGRES}" >"${work}/nopw.log" 2>&1; then fail "postgres started without POSTGRES_PASSWORD"; fi
  grep -q "POSTGRES_PASSWORD is empty" "${work}/nopw.log" || fail "no POSTGRES_PASSWORD message: $(cat "${work}/nopw.log")"
  ok "${POSTGRES}: refuses to initialize without POSTGRES_PASSWORD"

  # The Airflow images against it, with the password in the connection URL.
  docker exec "${pg}" psql -q -U airflow -d airflow -c 'CREATE DATABASE airflow2' >/dev/null
  for pair in "AIRFLOW_3_3_2 airflow" "AIRFLOW_2_11_2 airflow2"; do
    read -r key db <<<"${pair}"
    ref="${!key:-}"
    [[ -n "${ref}" ]] || continue
    t0=${SECONDS}
    expect "" docker run --rm --user 12345:0 \
      -e AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="postgresql+psycopg2://airflow:${PW_URL}@$(ip_of "${pg}"):5432/${db}" \
      "${ref}" bash -c 'airflow db migrate >/tmp/migrate.log 2>&1 || { tail -n 30 /tmp/migrate.log; exit 1; }; airflow db check'
    expect "0" docker exec "${pg}" psql -U airflow -d "${db}" -tAc 'SELECT count(*) FROM dag'
    ok "${ref}: airflow db migrate + check against the postgres image in $((SECONDS - t0)) s, as uid 12345"
  done
fi

if [[ -n "${REDIS:-}" ]]; then
  for u in "" "--user=12345:0"; do
    rd="$(docker run -d ${u} -e REDIS_PASSWORD="${PW}" "${REDIS}" \
      sh -c 'exec redis-server --requirepass "$REDIS_PASSWORD" --save "" --appendonly no')"
    containers+=("${rd}")
    for _ in $(seq 40); do docker exec "${rd}" redis-cli -a "${PW}" --no-auth-warning PING >/dev/null 2>&1 && break; sleep 0.25; done
    expect "PONG" docker run --rm "${REDIS}" redis-cli -h "$(ip_of "${rd}")" -a "${PW}" --no-auth-warning PING
    expect "NOAUTH" docker run --rm "${REDIS}" redis-cli -h "$(ip_of "${rd}")" PING
    [[ "$(pid1 "${rd}")" == "tini redis-server " ]] || fail "redis container: pid 1 and children are $(pid1 "${rd}")"
    ok "${REDIS} ${u:-as $(docker image inspect -f '{{.Config.User}}' "${REDIS}")}: PING with the password over TCP, NOAUTH without"
  done
fi
echo "all image tests passed" >&2
