#!/usr/bin/env bash
# Installs the Prometheus Operator (PROMETHEUS_OPERATOR_VERSION) on the kind cluster from its Go module's own
# manifests (example/rbac/prometheus-operator, example/prometheus-operator-crd), in namespace monitoring, with
# the images hack/kind/images.sh builds; then the Prometheus of hack/kind/prometheus-operator.yaml, which scrapes
# every ServiceMonitor (metrics.serviceMonitor), and waits until it is ready.
#
#   prometheus-operator.sh KUBECTL KUBECONFIG OPERATOR_IMAGE RELOADER_IMAGE PROMETHEUS_IMAGE
set -o errexit -o nounset -o pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=/dev/null
source "${ROOT}/hack/tools/versions.env"
[[ $# -eq 5 ]] || { sed -n 7p "${BASH_SOURCE[0]}" >&2; exit 2; }
kctl=("$1" --kubeconfig "$2")
operator="$3" reloader="$4" prometheus="$5"
src="$("${ROOT}/hack/tools/moddir.sh" "github.com/prometheus-operator/prometheus-operator@${PROMETHEUS_OPERATOR_VERSION}")"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
cp -r "${src}/example/rbac/prometheus-operator" "${work}/operator"
chmod -R u+w "${work}"
cat >"${work}/kustomization.yaml" <<KUSTOMIZATION
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: monitoring
resources:
- operator/prometheus-operator-service-account.yaml
- operator/prometheus-operator-cluster-role.yaml
- operator/prometheus-operator-cluster-role-binding.yaml
- operator/prometheus-operator-deployment.yaml
- operator/prometheus-operator-service.yaml
images:
- {name: quay.io/prometheus-operator/prometheus-operator, newName: ${operator%:*}, newTag: ${operator##*:}}
patches:
- target: {kind: Deployment, name: prometheus-operator}
  patch: |-
    - {op: replace, path: /spec/template/spec/containers/0/imagePullPolicy, value: IfNotPresent}
    - {op: replace, path: /spec/template/spec/containers/0/args, value: [--kubelet-service=kube-system/kubelet, --prometheus-config-reloader=${reloader}, --kubelet-endpoints=true, --kubelet-endpointslice=false]}
KUSTOMIZATION
start=${SECONDS}
# The CRDs are too big for client-side apply's annotation.
"${kctl[@]}" apply --server-side --force-conflicts --field-manager airkube-up -f "${src}/example/prometheus-operator-crd/" >&2
"${kctl[@]}" wait --for=condition=Established crd/prometheuses.monitoring.coreos.com --timeout 2m >&2
"$1" kustomize "${work}" | "${kctl[@]}" apply --server-side --force-conflicts --field-manager airkube-up -f - >&2
"${kctl[@]}" -n monitoring rollout status deployment/prometheus-operator --timeout 5m >&2
sed "s#image: prometheus\$#image: ${prometheus}#" "${ROOT}/hack/kind/prometheus-operator.yaml" |
  "${kctl[@]}" apply --server-side --field-manager airkube-up -f - >&2
for _ in $(seq 150); do
  "${kctl[@]}" -n monitoring get statefulset prometheus-operated >/dev/null 2>&1 && break
  sleep 2
done
"${kctl[@]}" -n monitoring rollout status statefulset/prometheus-operated --timeout 5m >&2
echo "FIGURE Prometheus Operator and its Prometheus install to ready: $((SECONDS - start)) s" >&2
