#!/usr/bin/env bash
# Builds kube-router (KUBE_ROUTER_VERSION in hack/tools/versions.env) from its Go module and prints the
# binary's path. The kind cluster runs only its network policy controller (iptables and ipset), which enforces
# NetworkPolicies on the bridge CNI's pods; see hack/kind/kube-router.yaml for why this one and how.
set -o errexit -o nounset -o pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=/dev/null
source "${ROOT}/hack/tools/versions.env"
exec "${ROOT}/hack/tools/go-install.sh" kube-router kube-router \
  "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@${KUBE_ROUTER_VERSION}" \
  -ldflags "-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=${KUBE_ROUTER_VERSION}"
