#!/usr/bin/env bash
# The CRDs of the options airkube renders (KEDA's ScaledObject, for queue autoscaling), from KEDA's Go module
# at the version pinned in hack/tools/versions.env.
#
#   crds.sh --dir                 print the folder holding the CRD files (downloaded once, then cached)
#   crds.sh KUBECTL KUBECONFIG    apply them to that cluster and wait until keda.sh/v1alpha1 serves
set -o errexit -o nounset -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=/dev/null
source "${ROOT}/hack/tools/versions.env"
CACHE="${AIRKUBE_CACHE:-${HOME}/.cache/airkube}"

dir="${AIRKUBE_KEDA_CRDS:-}"
if [[ -z "${dir}" ]]; then
  mkdir -p "${CACHE}"
  # Outside any module, so the repo's go.mod plays no part; cached in GOMODCACHE after the first time.
  keda="$(cd "${CACHE}" && GOWORK=off go mod download -json "github.com/kedacore/keda/v2@${KEDA_VERSION}" |
    sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
  dir="${keda}/config/crd/bases"
fi
compgen -G "${dir}/keda.sh_*.yaml" >/dev/null || { echo "no KEDA CRDs (keda.sh_*.yaml) in ${dir}" >&2; exit 1; }
if [[ "${1:-}" == --dir ]]; then
  echo "${dir}"
  exit 0
fi
[[ $# -eq 2 ]] || { sed -n 5,6p "${BASH_SOURCE[0]}" >&2; exit 2; }
kubectl() { "$1" --kubeconfig "$2" "${@:3}"; }
# Server-side apply: the CRDs are too big for kubectl's last-applied annotation, and objects the e2e suite
# created with the same content apply without conflict.
files=()
for f in "${dir}"/keda.sh_*.yaml; do files+=(-f "${f}"); done
kubectl "$1" "$2" apply --server-side --force-conflicts --field-manager airkube-up "${files[@]}" >&2
for _ in $(seq 60); do
  kubectl "$1" "$2" get --raw /apis/keda.sh/v1alpha1 >/dev/null 2>&1 && exit 0
  sleep 1
done
echo "keda.sh/v1alpha1 is not served" >&2
exit 1
