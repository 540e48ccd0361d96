#!/usr/bin/env bash
# Builds the StatsD exporter pinned in hack/tools/versions.env (STATSD_EXPORTER_VERSION) from its Go module,
# once per version, into the cache, and prints the binary's path. The real-Airflow metrics test runs it with
# the rendered mapping, as the release's exporter pod does.
set -o errexit -o nounset -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=/dev/null
source "${ROOT}/hack/tools/versions.env"
CACHE="${AIRKUBE_CACHE:-${HOME}/.cache/airkube}"
DIR="${CACHE}/bin/statsd-exporter-${STATSD_EXPORTER_VERSION}"
BIN="${DIR}/statsd_exporter"

mkdir -p "${CACHE}/bin"
(
  # One build at a time; a concurrent caller waits and then finds the binary.
  flock 9
  if [[ ! -x "${BIN}" ]]; then
    echo "statsd-exporter.sh: building statsd_exporter ${STATSD_EXPORTER_VERSION}" >&2
    start=${SECONDS}
    tmp="$(mktemp -d "${CACHE}/bin/.statsd-exporter.XXXXXX")"
    trap 'rm -rf "${tmp}"' EXIT
    # Outside any module, so the repo's go.mod plays no part.
    (cd "${tmp}" && GOWORK=off GOBIN="${tmp}" GOFLAGS="-mod=mod -trimpath" \
      go install "github.com/prometheus/statsd_exporter@${STATSD_EXPORTER_VERSION}")
    rm -rf "${DIR}"
    mkdir -p "${DIR}"
    mv "${tmp}/statsd_exporter" "${BIN}"
    echo "statsd-exporter.sh: built in $((SECONDS - start))s" >&2
  fi
) 9>"${CACHE}/bin/.statsd-exporter.lock"
echo "${BIN}"
