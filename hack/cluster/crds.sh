#!/usr/bin/env bash
# The CRDs of the options airkube renders, from their projects' Go modules at the versions pinned in
# hack/tools/versions.env: KEDA's ScaledObject (queue autoscaling), the Gateway API's HTTPRoute (ui.gateway)
# with the standard kinds beside it, and prometheus-operator's ServiceMonitor (metrics.serviceMonitor).
#
#   crds.sh --dir                 print the folder holding the CRD files (assembled once, then cached)
#   crds.sh KUBECTL KUBECONFIG    apply them to that cluster and wait until their APIs serve
set -o errexit -o nounset -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=/dev/null
source "${ROOT}/hack/tools/versions.env"
CACHE="${AIRKUBE_CACHE:-${HOME}/.cache/airkube}"
# The API group versions the CRDs serve, each waited for after applying.
APIS=(keda.sh/v1alpha1 gateway.networking.k8s.io/v1 monitoring.coreos.com/v1)

# moddir MODULE@VERSION: the module's folder in the Go module cache (downloaded the first time).
moddir() { "${ROOT}/hack/tools/moddir.sh" "$1"; }

dir="${AIRKUBE_CRDS:-}"
if [[ -z "${dir}" ]]; then
  # The Gateway API's standard kinds a controller watches (Traefik's Gateway provider on kind: all of them).
  GATEWAY_KINDS="gatewayclasses gateways httproutes grpcroutes referencegrants backendtlspolicies"
  stamp="$(echo "${KEDA_VERSION} ${GATEWAY_API_VERSION} ${GATEWAY_KINDS} ${PROMETHEUS_OPERATOR_VERSION}" | sha256sum | cut -c1-12)"
  dir="${CACHE}/crds/${stamp}"
  if [[ ! -f "${dir}/.complete" ]]; then
    mkdir -p "${CACHE}/crds"
    tmp="$(mktemp -d "${CACHE}/crds/.new.XXXXXX")"
    # KEDA's go.mod needs a newer Go than the machine's; go mod download refuses it with the local toolchain.
    cp "$(GOTOOLCHAIN="${KEDA_GO_TOOLCHAIN}" moddir "github.com/kedacore/keda/v2@${KEDA_VERSION}")"/config/crd/bases/keda.sh_*.yaml "${tmp}/"
    gw="$(moddir "sigs.k8s.io/gateway-api@${GATEWAY_API_VERSION}")/config/crd/standard"
    for kind in ${GATEWAY_KINDS}; do
      cp "${gw}/gateway.networking.k8s.io_${kind}.yaml" "${tmp}/"
    done
    cp "$(moddir "github.com/prometheus-operator/prometheus-operator@${PROMETHEUS_OPERATOR_VERSION}")"/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml "${tmp}/"
    chmod u+w "${tmp}"/*.yaml
    touch "${tmp}/.complete"
    rm -rf "${dir}"
    mv "${tmp}" "${dir}"
  fi
fi
compgen -G "${dir}/*.yaml" >/dev/null || { echo "no CRDs (*.yaml) in ${dir}" >&2; exit 1; }
if [[ "${1:-}" == --dir ]]; then
  echo "${dir}"
  exit 0
fi
[[ $# -eq 2 ]] || { sed -n 6,7p "${BASH_SOURCE[0]}" >&2; exit 2; }
kubectl() { "$1" --kubeconfig "$2" "${@:3}"; }
# Server-side apply: the CRDs are too big for kubectl's last-applied annotation, and objects the e2e suite
# created with the same content apply without conflict.
files=()
for f in "${dir}"/*.yaml; do files+=(-f "${f}"); done
kubectl "$1" "$2" apply --server-side --force-conflicts --field-manager airkube-up "${files[@]}" >&2
for api in "${APIS[@]}"; do
  for _ in $(seq 60); do
    kubectl "$1" "$2" get --raw "/apis/${api}" >/dev/null 2>&1 && continue 2
    sleep 1
  done
  echo "${api} is not served" >&2
  exit 1
done
