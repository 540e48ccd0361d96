#!/usr/bin/env bash
# Builds Prometheus (PROMETHEUS_VERSION in hack/tools/versions.env) from its Go module and prints the binary's
# path. The kind cluster runs it (hack/kind/prometheus.yaml): it scrapes every release's StatsD exporter and
# answers the kind suite's PromQL. Only Kubernetes service discovery is compiled in (Prometheus' remove_all_sd
# and enable_kubernetes_sd build tags) and no web UI assets (the HTTP API is what is used): a smaller build.
set -o errexit -o nounset -o pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=/dev/null
source "${ROOT}/hack/tools/versions.env"
exec "${ROOT}/hack/tools/go-install.sh" prometheus prometheus \
  "github.com/prometheus/prometheus/cmd/prometheus@${PROMETHEUS_VERSION}" -tags remove_all_sd,enable_kubernetes_sd
