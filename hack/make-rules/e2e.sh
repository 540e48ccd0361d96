#!/usr/bin/env bash
# Runs the cluster e2e suite: starts the local kwok control plane (or, with AIRKUBE_E2E_CLUSTER=kind, a kind
# cluster with real pods), runs tests/e2e, and stops everything it started. With AIRKUBE_E2E_CLUSTER=kind,
# AIRKUBE_KIND_KUBECONFIG names a cluster hack/kind/up.sh has already brought up (it is removed all the same).
set -o errexit -o nounset -o pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "${ROOT}"
# shellcheck source=/dev/null
source hack/tools/versions.env
CACHE="${AIRKUBE_CACHE:-${HOME}/.cache/airkube}"

# Pinned Helm CLI for the plain-CLI install tests, and the CRDs of airkube's options (the suite installs them too).
HELM="$(hack/tools/helm.sh | tail -n 1)"
export AIRKUBE_CRDS="${AIRKUBE_CRDS:-$(hack/cluster/crds.sh --dir)}"

RUN=()
if [[ "${AIRKUBE_E2E_CLUSTER:-kwok}" == "kind" ]]; then
  export AIRKUBE_CLUSTER="${AIRKUBE_CLUSTER:-airkube-e2e}"
  trap 'hack/kind/down.sh >&2' EXIT
  # A cluster hack/kind/up.sh already brought up (make test starts it beside the real-Airflow suite), or a new one.
  KUBECONFIG_PATH="${AIRKUBE_KIND_KUBECONFIG:-$(hack/kind/up.sh | tail -n 1)}"
  export AIRKUBE_KIND_NAS="${CACHE}/kind/${AIRKUBE_CLUSTER}/nas"
  # The by-hand steps kind-up printed; TestE2EKindWeatherRelease runs them as they are.
  export AIRKUBE_KIND_STEPS="${CACHE}/kind/${AIRKUBE_CLUSTER}/by-hand.sh"
  RUN=(-run "${AIRKUBE_E2E_RUN:-TestE2EKind}")
else
  # A cluster of its own, so a user's `make cluster-up` cluster is left alone.
  export AIRKUBE_CLUSTER="${AIRKUBE_CLUSTER:-airkube-e2e}"
  trap 'hack/cluster/down.sh >&2' EXIT
  KUBECONFIG_PATH="$(hack/cluster/up.sh | tail -n 1)"
fi

set +o errexit
AIRKUBE_KUBECONFIG="${KUBECONFIG_PATH}" AIRKUBE_HELM="${HELM}" \
  go test -tags e2e -count=1 -timeout 60m -v "${RUN[@]}" ./tests/e2e/ 2>&1 | tee "${CACHE}/e2e-${AIRKUBE_E2E_CLUSTER:-kwok}.log"
status="${PIPESTATUS[0]}"
set -o errexit
exit "${status}"
