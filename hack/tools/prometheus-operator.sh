#!/usr/bin/env bash
# Builds the Prometheus Operator or its config reloader (PROMETHEUS_OPERATOR_VERSION in hack/tools/versions.env)
# from their Go module and prints the binary's path. The kind cluster runs both (hack/kind/prometheus-operator.yaml)
# to prove metrics.serviceMonitor. The module's go.mod replaces two of its own packages, so it is built inside
# its own source.
#
#   prometheus-operator.sh operator|prometheus-config-reloader
set -o errexit -o nounset -o pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=/dev/null
source "${ROOT}/hack/tools/versions.env"
case "${1:-}" in
  operator) name=prometheus-operator ;;
  prometheus-config-reloader) name=prometheus-config-reloader ;;
  *) sed -n 7p "${BASH_SOURCE[0]}" >&2; exit 2 ;;
esac
module=github.com/prometheus-operator/prometheus-operator
exec "${ROOT}/hack/tools/go-install.sh" "${name}" "${name}" "${module}/cmd/$1@${PROMETHEUS_OPERATOR_VERSION}" --module "${module}" \
  -ldflags "-X github.com/prometheus/common/version.Version=${PROMETHEUS_OPERATOR_VERSION#v}"
