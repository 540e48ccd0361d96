#!/usr/bin/env bash
# Builds the images the kind tests run, with no registry: Apache Airflow (from the exact locks in hack/airflow),
# Airflow plus gfortran, PostgreSQL, Redis and an S3 server (moto), each from Debian bookworm packages (and PyPI) by
# hack/kind/rootfs.sh, which caches them by content hash; and the StatsD exporter, Prometheus and its Operator,
# kube-router and Traefik, built from their Go modules (hack/tools/). The
# last stdout lines are one shell-sourceable KEY=image-ref per image; logs and `FIGURE image NAME: N s` timings go to stderr.
#
#   hack/kind/images.sh [KEY...]     build all images, or only those KEYs (e.g. POSTGRES REDIS)
#
# The setup scripts that run in each image's chroot are in hack/kind/images/. The Airflow images mirror what
# a Helm chart relies on in apache/airflow: user airflow uid 50000 gid 0, AIRFLOW_HOME=/opt/airflow, `airflow`
# on PATH for any uid, tini as entrypoint so a pod's args are just exec'd.
set -o errexit -o nounset -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="${ROOT}/hack/kind"
SETUP="${HERE}/images"
# shellcheck source=/dev/null
source "${ROOT}/hack/airflow/versions.env"
CACHE="${AIRKUBE_CACHE:-${HOME}/.cache/airkube}"

KEYS=(AIRFLOW_3_3_2 AIRFLOW_2_11_2 AIRFLOW_3_3_2_FORTRAN POSTGRES REDIS MOTO STATSD_EXPORTER PROMETHEUS PROMETHEUS_OPERATOR
  PROMETHEUS_CONFIG_RELOADER KUBE_ROUTER TRAEFIK)
want=("$@")
for k in "${want[@]+"${want[@]}"}"; do
  [[ " ${KEYS[*]} " == *" ${k} "* ]] || { echo "images.sh: unknown image ${k} (known: ${KEYS[*]})" >&2; exit 2; }
done

"${HERE}/engine.sh"

# uv installs the ~180 locked wheels in seconds where pip takes minutes. Its binary is passed into the chroot
# as an input (so its content is part of each image's hash); it is the pinned uv hack/airflow/venv.sh uses.
UV="$("${ROOT}/hack/airflow/venv.sh" --uv | tail -n 1)"

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
# PyPI is reached over TLS from the chroot, whose Debian CA bundle may lack a CA this machine trusts (e.g. a
# TLS-inspecting egress proxy's). The setup script downloads with the host's bundle and leaves it out of the
# image. As an input it is hashed too: a change of the host's CAs rebuilds the Airflow images (rare).
HOST_CA="${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}"
ca_input=()
if [[ -s "${HOST_CA}" ]]; then
  cp "${HOST_CA}" "${work}/build-ca-certificates.crt"
  ca_input=(--input "${work}/build-ca-certificates.crt")
fi

out=()
# build KEY NAME [--stopsignal SIGNAL] ROOTFS.SH-ARGS... : build (or find cached) one image, time it, remember
# KEY=ref. `docker import` takes no STOPSIGNAL (Docker 20.10: "stopsignal is not a valid change command"), so
# --stopsignal adds it with a one-line `docker build` on top of rootfs.sh's image, named NAME-rootfs.
build() {
  local key="$1" name="$2" t0="${EPOCHREALTIME/,/.}" stop="" ref how=cached; shift 2
  if (( ${#want[@]} )) && [[ " ${want[*]} " != *" ${key} "* ]]; then return 0; fi
  if [[ "$1" == --stopsignal ]]; then stop="$2"; shift 2; fi
  ref="$("${HERE}/rootfs.sh" "${name}${stop:+-rootfs}" "$@" | tail -n 1)"
  if [[ -n "${stop}" ]]; then
    local base="${ref}"
    ref="airkube.local/${name}:$(echo "${base} STOPSIGNAL ${stop}" | sha256sum | cut -c1-12)"
    docker image inspect "${ref}" >/dev/null 2>&1 ||
      printf 'FROM %s\nSTOPSIGNAL %s\n' "${base}" "${stop}" | DOCKER_BUILDKIT=0 docker build -q -t "${ref}" - >/dev/null
  fi
  # rootfs.sh answers a cache hit without saying so: an image created after we started was built now.
  (( $(date -d "$(docker image inspect -f '{{.Created}}' "${ref}")" +%s) < ${t0%.*} )) || how=built
  awk -v n="${name}" -v a="${t0}" -v b="${EPOCHREALTIME/,/.}" -v h="${how}" \
    'BEGIN { printf "FIGURE image %s: %.1f s (%s)\n", n, b - a, h }' >&2
  out+=("${key}=${ref}")
}

# Airflow: the lock file, its Python 3.11.2 additions, uv and the setup script are inputs, so a change to any
# of them is a new image. An arbitrary uid (OpenShift-like, gid 0) has no passwd entry: Airflow's getuser()
# then fails ("getpwuid(): uid not found"), unless USER is set, and HOME would be "/". apache/airflow's
# entrypoint appends to a group-writable /etc/passwd and sets HOME; the same two variables, fixed in the
# image, do it without an entrypoint script (they are what uid 50000 gets anyway).
AIRFLOW_PACKAGES="python3 tini procps ca-certificates libmariadb3"
# Airflow 3's git DAG bundle (storage.dags.git) runs the git command, as apache/airflow's image has it.
AIRFLOW3_PACKAGES="${AIRFLOW_PACKAGES} git"
airflow_args() { # airflow_args VERSION : sets args to the setup script, inputs and image config of one image
  local lock="${ROOT}/hack/airflow/requirements-$1.txt"
  [[ -f "${lock}" ]] || { echo "images.sh: no ${lock#"${ROOT}"/}" >&2; exit 1; }
  args=("${SETUP}/airflow.sh" --input "${UV}" --input "${lock}" --input "${SETUP}/python-3.11.2.txt"
    "${ca_input[@]+"${ca_input[@]}"}"
    --change 'ENV PATH=/home/airflow/.local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
    --change 'ENV AIRFLOW_HOME=/opt/airflow' --change 'ENV AIRFLOW_USER_HOME_DIR=/home/airflow'
    --change 'ENV USER=airflow' --change 'ENV HOME=/home/airflow'
    --change 'ENV AIRFLOW_UID=50000' --change 'ENV PYTHONUNBUFFERED=1'
    --change 'ENV LANG=C.UTF-8' --change 'ENV LC_ALL=C.UTF-8'
    --change 'USER 50000' --change 'WORKDIR /opt/airflow'
    --change 'ENTRYPOINT ["/usr/bin/tini", "--"]' --change 'CMD ["airflow", "--help"]')
}
airflow_args 3.3.2; af332=("${args[@]}")
airflow_args 2.11.2; af2112=("${args[@]}")
build AIRFLOW_3_3_2 airflow-3.3.2 "${AIRFLOW3_PACKAGES}" "${af332[@]}"
build AIRFLOW_2_11_2 airflow-2.11.2 "${AIRFLOW_PACKAGES}" "${af2112[@]}"
# The Fortran task image: the same recipe with Debian's gfortran added (the setup script keeps the C toolchain
# gfortran depends on, and drops the rest of what it needed to build mysqlclient).
build AIRFLOW_3_3_2_FORTRAN airflow-3.3.2-fortran "${AIRFLOW3_PACKAGES} gfortran" "${af332[@]}"

# PostgreSQL 15 and Redis from Debian, as uid/gid 999 (what the official postgres and redis images use), set
# numerically so that a pod's runAsNonRoot can check it. STOPSIGNAL SIGINT (as the official postgres image; the
# kubelet's runtime sends the image's stop signal): tini passes it on and postgres does a fast shutdown; SIGTERM
# would be a smart one, waiting for every client (Airflow's pooled connections) to leave until the SIGKILL.
build POSTGRES postgres-15 --stopsignal SIGINT "tini" "${SETUP}/postgres.sh" --input "${SETUP}/postgres-entrypoint.sh" \
  --change 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV PGDATA=/var/lib/postgresql/data' --change 'ENV LANG=C.UTF-8' \
  --change 'USER 999:999' --change 'WORKDIR /var/lib/postgresql' --change 'EXPOSE 5432' \
  --change 'ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/postgres-entrypoint.sh"]' \
  --change 'CMD ["postgres"]'
build REDIS redis "tini" "${SETUP}/redis.sh" \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'ENV LANG=C.UTF-8' \
  --change 'USER 999:999' --change 'WORKDIR /data' --change 'EXPOSE 6379' \
  --change 'ENTRYPOINT ["/usr/bin/tini", "--"]' \
  --change 'CMD ["redis-server", "--save", "", "--appendonly", "no"]'

# The S3 stand-in (storage.logs.remote and xcom.objectStorage on s3:// in the kind suite): moto's server from
# its lock, as uid 999, objects in memory.
build MOTO moto "python3 tini ca-certificates" "${SETUP}/moto.sh" --input "${UV}" --input "${SETUP}/moto-requirements.txt" \
  "${ca_input[@]+"${ca_input[@]}"}" \
  --change 'ENV PATH=/opt/moto/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'ENV LANG=C.UTF-8' \
  --change 'ENV HOME=/tmp' --change 'USER 999:999' --change 'WORKDIR /tmp' --change 'EXPOSE 5000' \
  --change 'ENTRYPOINT ["/usr/bin/tini", "--"]' \
  --change 'CMD ["python3", "-m", "moto.server", "-H", "0.0.0.0", "-p", "5000"]'

# Static binaries from their Go modules, as uid 65534 (nobody, as in their own images) unless the manifest
# says otherwise: the release's StatsD exporter (metrics.statsd.image in overlays/kind), the Prometheus that
# scrapes it (hack/kind/prometheus.yaml), the Prometheus Operator and its config reloader (for
# metrics.serviceMonitor), and kube-router's NetworkPolicy controller, with Debian's iptables
# and ipset, which it runs (hack/kind/kube-router.yaml), and Traefik (hack/kind/traefik.yaml).
binary_image() { # binary_image KEY NAME "PACKAGES" BUILD_SCRIPT [ARG...]: the script prints the binary's path last
  local key="$1" name="$2" packages="$3" bin
  shift 3
  if (( ${#want[@]} )) && [[ " ${want[*]} " != *" ${key} "* ]]; then return 0; fi
  bin="$("$@" | tail -n 1)"
  build "${key}" "${name}" "ca-certificates${packages:+ ${packages}}" "${SETUP}/binaries.sh" --input "${bin}" \
    --change 'USER 65534:65534' --change "ENTRYPOINT [\"/bin/$(basename "${bin}")\"]"
}
binary_image STATSD_EXPORTER statsd-exporter "" "${ROOT}/hack/tools/statsd-exporter.sh"
binary_image PROMETHEUS prometheus "" "${ROOT}/hack/tools/prometheus.sh"
binary_image PROMETHEUS_OPERATOR prometheus-operator "" "${ROOT}/hack/tools/prometheus-operator.sh" operator
binary_image PROMETHEUS_CONFIG_RELOADER prometheus-config-reloader "" "${ROOT}/hack/tools/prometheus-operator.sh" prometheus-config-reloader
binary_image KUBE_ROUTER kube-router "iptables ipset" "${ROOT}/hack/tools/kube-router.sh"
binary_image TRAEFIK traefik "" "${ROOT}/hack/tools/traefik.sh"

for kv in "${out[@]}"; do
  case "${kv}" in POSTGRES=* | REDIS=*)
    echo "${kv%%=*} runs as uid:gid $(docker image inspect -f '{{.Config.User}}' "${kv#*=}")" >&2 ;;
  esac
done
printf '%s\n' "${out[@]}"
