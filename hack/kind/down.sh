#!/usr/bin/env bash
# Removes what hack/kind/up.sh made: the kind cluster, its network and NAS stand-in, and the Docker engine
# if up.sh started it (a user's own engine keeps running). Cached images stay for the next run.
set -o errexit -o nounset -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export AIRKUBE_CLUSTER="${AIRKUBE_CLUSTER:-airkube}"
if docker info >/dev/null 2>&1; then
  (cd "${ROOT}/hack/kind" && go run . delete)
fi
"${ROOT}/hack/kind/engine.sh" stop
