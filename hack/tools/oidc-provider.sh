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
# The example's package is server; its binary is kept as oidc-provider.
exec "${ROOT}/hack/tools/go-install.sh" oidc-provider oidc-provider "github.com/zitadel/oidc/v3/example/server@${OIDC_PROVIDER_VERSION}"
