#!/usr/bin/env bash
# Builds the StatsD exporter pinned in hack/tools/versions.env (STATSD_EXPORTER_VERSION) from its Go module and
# prints the binary's path. The real-Airflow metrics test runs it with the rendered mapping, as the release's
# exporter pod does; the kind suite's exporter image (hack/kind/images.sh) is this binary.
set -o errexit -o nounset -o pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=/dev/null
source "${ROOT}/hack/tools/versions.env"
exec "${ROOT}/hack/tools/go-install.sh" statsd-exporter statsd_exporter \
  "github.com/prometheus/statsd_exporter@${STATSD_EXPORTER_VERSION}"
