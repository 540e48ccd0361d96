#!/usr/bin/env bash
# Runs in the chroot of an Airflow image (hack/kind/images.sh, via rootfs.sh): the user `airflow`, AIRFLOW_HOME,
# and a virtualenv at /home/airflow/.local holding exactly the lock /airkube-inputs/requirements-<V>.txt,
# installed by /airkube-inputs/uv with Debian's python3 (3.11.2; the locks were made on 3.11.7, hence
# python-3.11.2.txt).
set -o errexit -o nounset -o pipefail
IN=/airkube-inputs
VENV=/home/airflow/.local   # where apache/airflow's `pip install --user` puts Airflow; its bin is on PATH

shopt -s nullglob
locks=("${IN}"/requirements-*.txt)
if [[ ${#locks[@]} -ne 1 ]]; then
  echo "airflow.sh: want exactly one requirements-*.txt in ${IN}, got ${#locks[@]}" >&2
  exit 1
fi
LOCK="${locks[0]}"

# As apache/airflow: uid 50000 with primary group 0. OpenShift-like platforms run an arbitrary uid with gid 0,
# so whatever Airflow may write is owned by group 0 and group-writable (fixed at the end).
useradd --uid 50000 --gid 0 --home-dir /home/airflow --create-home --shell /bin/bash --no-log-init airflow
mkdir -p /opt/airflow/dags /opt/airflow/logs

# mysqlclient (the mysql provider's driver) is an sdist only on Linux: it is compiled here, against libmariadb3
# (kept: it is in the image's package list), with a toolchain that is dropped again below. Only the build
# dependencies that were not already wanted are marked for removal, so the Fortran image keeps gcc, which
# gfortran depends on.
BUILD_DEPS=(gcc libc6-dev python3-dev pkg-config libmariadb-dev)
manual_before="$(apt-mark showmanual)"
apt-get install -y -qq --no-install-recommends "${BUILD_DEPS[@]}" >/dev/null

export UV_CACHE_DIR=/tmp/uv-cache UV_PYTHON_DOWNLOADS=never UV_LINK_MODE=copy UV_NO_PROGRESS=1
# The host's CA bundle, when images.sh passes it (see there): used for the downloads only, never installed.
[[ ! -s "${IN}/build-ca-certificates.crt" ]] || export SSL_CERT_FILE="${IN}/build-ca-certificates.crt"
"${IN}/uv" venv --quiet --python /usr/bin/python3 "${VENV}"
# --no-deps: the lock is a full `pip freeze`, so the image holds exactly it (plus python-3.11.2.txt: the lock
# was made on 3.11.7, and a few markers ask for more below 3.11.3); `uv pip check` then proves nothing declared
# is missing. Bytecode is compiled now: at run time a uid that can't write site-packages would recompile
# Airflow's modules on every start.
"${IN}/uv" pip install --python "${VENV}/bin/python" --no-deps --compile-bytecode \
  -r "${LOCK}" -r "${IN}/python-3.11.2.txt"
"${IN}/uv" pip check --python "${VENV}/bin/python"

to_drop=()
for p in "${BUILD_DEPS[@]}"; do grep -qxF "${p}" <<<"${manual_before}" || to_drop+=("${p}"); done
apt-mark auto "${to_drop[@]}" >/dev/null
# Suggests are not kept either: python3.11 suggests binutils, which would otherwise stay (26 MB).
apt-get autoremove --purge -y -qq -o APT::AutoRemove::SuggestsImportant=false >/dev/null
rm -rf "${UV_CACHE_DIR}"

# The drivers must still load without the toolchain (libmariadb3 for MySQLdb; psycopg2-binary bundles libpq).
AIRFLOW_HOME="$(mktemp -d)" "${VENV}/bin/python" -W ignore -c '
import airflow, MySQLdb, psycopg2, airflow.providers.celery, airflow.providers.cncf.kubernetes
print("airflow", airflow.__version__, "imports ok")'
rm -rf /tmp/tmp.*

chown -R 50000:0 /home/airflow /opt/airflow
chmod -R g=u /home/airflow /opt/airflow
