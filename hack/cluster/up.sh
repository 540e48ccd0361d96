#!/usr/bin/env bash
# Starts (or reuses) a local kwok cluster from the cached pinned binaries, ready for `helm upgrade --install`:
# a fake node and the CRDs of airkube's options (KEDA, Gateway API, ServiceMonitor), ensured on every
# call. Prints its kubeconfig path last.
set -o errexit -o nounset -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=/dev/null
source "${ROOT}/hack/tools/versions.env"
CACHE="${AIRKUBE_CACHE:-${HOME}/.cache/airkube}"
NAME="${AIRKUBE_CLUSTER:-airkube}"
export KWOK_WORKDIR="${CACHE}/kwok"               # kwokctl keeps each cluster under clusters/<name>/
KUBECONFIG_PATH="${KWOK_WORKDIR}/clusters/${NAME}/kubeconfig.yaml"
# The node every workload without a nodeSelector lands on. Its PreferNoSchedule taint only makes the
# scheduler prefer any other fitting node, so nodes a test makes for its pods (nodes.sh) still win.
NODE=kwok-node-0

BIN="$("${ROOT}/hack/cluster/build.sh" | tail -n 1)"
# kwokctl takes kubectl (and the kube version it generates flags for) from the environment, not from flags.
export KWOK_KUBECTL_BINARY="${BIN}/kubectl" KWOK_KUBE_VERSION="${KUBE_VERSION}"
kwokctl() { "${BIN}/kwokctl" "$@"; }
kubectl() { "${BIN}/kubectl" --kubeconfig "${KUBECONFIG_PATH}" "$@"; }
healthy() { [[ -f "${KUBECONFIG_PATH}" ]] && kubectl get --raw /readyz >/dev/null 2>&1; }

mkdir -p "${KWOK_WORKDIR}"
exec 9>"${KWOK_WORKDIR}/${NAME}.lock"   # shared with down.sh: one up/down per cluster at a time
flock -w 600 9 || { echo "timed out waiting for ${KWOK_WORKDIR}/${NAME}.lock" >&2; exit 1; }

if healthy; then
  echo "cluster ${NAME} already running" >&2
else
  if [[ -d "${KWOK_WORKDIR}/clusters/${NAME}" ]]; then
    echo "cluster ${NAME} exists but is not healthy: recreating it" >&2
    kwokctl delete cluster --name "${NAME}" --kubeconfig "" >&2 || true
  fi
  start=${SECONDS}
  # Every binary is a local path, so nothing is downloaded. --kubeconfig "" keeps ~/.kube/config untouched.
  # kwokctl's default stages (node-initialize, node-heartbeat-with-lease, pod-ready, pod-complete for Job pods,
  # pod-delete) make fake nodes Ready, pods Running, Deployments Available and Jobs Complete.
  kwokctl create cluster --name "${NAME}" --runtime binary --kubeconfig "" \
    --kube-apiserver-binary "${BIN}/kube-apiserver" \
    --kube-controller-manager-binary "${BIN}/kube-controller-manager" \
    --kube-scheduler-binary "${BIN}/kube-scheduler" \
    --kwok-controller-binary "${BIN}/kwok" \
    --etcd-binary "${BIN}/etcd" \
    --disable-qps-limits \
    --wait 3m >&2 9>&-   # 9>&-: the daemons must not inherit (and so hold) our lock
  # "Usable": the API answers and the controller-manager has created the default ServiceAccount.
  for _ in $(seq 120); do
    healthy && kubectl get serviceaccount default -n default >/dev/null 2>&1 && break
    sleep 1
  done
  healthy || { echo "cluster ${NAME} did not become healthy" >&2; exit 1; }
  echo "cluster ${NAME} up in $((SECONDS - start))s ($(kubectl version -o json | grep -m1 gitVersion | tr -d ' ",'))" >&2
fi

# What every release needs, also on a cluster that was already running: the CRDs of airkube's options
# (crds.sh; AIRKUBE_CRDS may name their folder) and the node.
"${ROOT}/hack/cluster/crds.sh" "${BIN}/kubectl" "${KUBECONFIG_PATH}"
AIRKUBE_NODES_KUBECONFIG="${KUBECONFIG_PATH}" "${ROOT}/hack/cluster/nodes.sh" "${NODE}" \
  -t airkube.dev/fallback:PreferNoSchedule

# airkube never creates the namespace, nor the Secrets and ConfigMaps a spec names.
path="${BIN}"   # kubectl ${KUBE_VERSION}, and the Helm CLI make e2e builds if there is one
helm="$(find "${CACHE}/bin" -mindepth 2 -maxdepth 2 -path '*/helm-v3*/helm' -type f 2>/dev/null | sort | tail -n 1)"
[[ -z "${helm}" ]] || path+=":$(dirname "${helm}")"
[[ -n "${helm}" ]] || command -v helm >/dev/null || echo "no Helm 3 CLI found: make e2e builds the pinned one" >&2
cat >&2 <<HINT
cluster ${NAME} is ready: node ${NODE} and the CRDs of airkube's options. To use it with kubectl and helm:
  export KUBECONFIG=${KUBECONFIG_PATH} PATH="${path}:\$PATH"
Then create what your spec names before helm upgrade --install; for values/weather-etl.yaml (README.md, "Deploying the output"):
  kubectl create namespace airflow
  kubectl -n airflow create secret generic airflow-db --from-literal=password=...
  kubectl -n airflow create configmap cluster-ca --from-literal=ca.crt="\$(kubectl -n default get configmap kube-root-ca.crt -o jsonpath='{.data.ca\.crt}')"
HINT

echo "${KUBECONFIG_PATH}"
