#!/usr/bin/env bash
# Builds Traefik (TRAEFIK_VERSION in hack/tools/versions.env) from its Go module and prints the binary's path.
# The kind cluster runs it as its ingress and Gateway API controller (hack/kind/traefik.yaml). Traefik's go.mod
# replaces modules (its own dynamic/ext, two forks), so it is built inside its own source.
set -o errexit -o nounset -o pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=/dev/null
source "${ROOT}/hack/tools/versions.env"
exec "${ROOT}/hack/tools/go-install.sh" traefik traefik "github.com/traefik/traefik/v3/cmd/traefik@${TRAEFIK_VERSION}" \
  --module github.com/traefik/traefik/v3 -ldflags "-X github.com/traefik/traefik/v3/pkg/version.Version=${TRAEFIK_VERSION}"
