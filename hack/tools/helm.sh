#!/usr/bin/env bash
# Builds the pinned Helm 3 CLI (HELM_VERSION in versions.env) into the cache if missing; prints its path last.
set -o errexit -o nounset -o pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=/dev/null
source "${ROOT}/hack/tools/versions.env"
CACHE="${AIRKUBE_CACHE:-${HOME}/.cache/airkube}"
HELM_BIN="${CACHE}/bin/helm-${HELM_VERSION}"
if [[ ! -x "${HELM_BIN}/helm" ]]; then
  echo "building helm ${HELM_VERSION}" >&2
  GOBIN="${HELM_BIN}" GOFLAGS=-mod=mod go install "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}"
fi
echo "${HELM_BIN}/helm"
