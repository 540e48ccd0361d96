#!/usr/bin/env bash
# Builds the OpenID Connect provider the real-Airflow FAB test logs in through (OIDC_PROVIDER_VERSION in
# hack/tools/versions.env): zitadel/oidc's example OpenID Provider, a certified OIDC library's own server with
# an in-memory store (users from a JSON file, clients from its environment). Once per version, into the
# cache; prints the binary's path. dex, the usual choice, is served by the module proxy only as
# v2.13.0+incompatible (2018), and its newer commits are refused.
set -o errexit -o nounset -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=/dev/null
source "${ROOT}/hack/tools/versions.env"
CACHE="${AIRKUBE_CACHE:-${HOME}/.cache/airkube}"
DIR="${CACHE}/bin/oidc-provider-${OIDC_PROVIDER_VERSION}"
BIN="${DIR}/oidc-provider"

mkdir -p "${CACHE}/bin"
(
  # One build at a time; a concurrent caller waits and then finds the binary.
  flock 9
  if [[ ! -x "${BIN}" ]]; then
    echo "oidc-provider.sh: building zitadel/oidc's example provider ${OIDC_PROVIDER_VERSION}" >&2
    start=${SECONDS}
    tmp="$(mktemp -d "${CACHE}/bin/.oidc-provider.XXXXXX")"
    trap 'rm -rf "${tmp}"' EXIT
    # Outside any module, so the repo's go.mod plays no part.
    (cd "${tmp}" && GOWORK=off GOBIN="${tmp}" GOFLAGS="-mod=mod -trimpath" \
      go install "github.com/zitadel/oidc/v3/example/server@${OIDC_PROVIDER_VERSION}")
    rm -rf "${DIR}"
    mkdir -p "${DIR}"
    mv "${tmp}/server" "${BIN}"
    echo "oidc-provider.sh: built in $((SECONDS - start))s" >&2
  fi
) 9>"${CACHE}/bin/.oidc-provider.lock"
echo "${BIN}"
