#!/usr/bin/env bash
# Builds the pinned control-plane binaries (k8s, etcd, kwok) into the cache if missing; prints the bin dir last.
set -o errexit -o nounset -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="${ROOT}/hack/tools"
# shellcheck source=/dev/null
source "${TOOLS}/versions.env"

CACHE="${AIRKUBE_CACHE:-${HOME}/.cache/airkube}"
# The stamp changes whenever a pin changes: versions.env or the wrapper modules' go.mod/go.sum.
# Bump RECIPE when the build flags below change, so cached binaries are rebuilt.
RECIPE=1
hash="$(echo "${RECIPE}" | cat - "${TOOLS}/versions.env" "${TOOLS}"/k8s/go.{mod,sum} "${TOOLS}"/etcd/go.{mod,sum} | sha256sum | cut -c1-12)"
BIN="${CACHE}/bin/k8s-${KUBE_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_${hash}"
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok kwokctl)

complete() { for b in "${BINARIES[@]}"; do [[ -x "${BIN}/${b}" ]] || return 1; done; }

if ! complete; then
  mkdir -p "${BIN}"
  # Serialise concurrent builds of the same stamp; the loser finds everything built when it gets the lock.
  exec 9>"${BIN}.lock"
  flock 9
fi

export GOWORK=off GOFLAGS="-trimpath -mod=readonly" CGO_ENABLED=0
# Each binary is built to a temp name and renamed, so an interrupted build never leaves a broken binary.
gobuild() { # gobuild <module dir> <name> <package> [go build flags...]
  local dir="$1" name="$2" pkg="$3"; shift 3
  [[ -x "${BIN}/${name}" ]] && return 0
  echo "building ${name} (${pkg})" >&2
  (cd "${dir}" && nice -n 10 go build "$@" -o "${BIN}/.${name}.tmp" "${pkg}")
  mv -f "${BIN}/.${name}.tmp" "${BIN}/${name}"
}

if ! complete; then
  start=${SECONDS}
  # Without these, /version reports v0.0.0-master and Helm rejects charts with a kubeVersion constraint.
  minor="$(echo "${KUBE_VERSION}" | cut -d. -f2)"
  kv=""
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    kv+=" -X ${p}.gitVersion=${KUBE_VERSION} -X ${p}.gitMajor=1 -X ${p}.gitMinor=${minor} -X ${p}.gitTreeState=clean"
  done
  for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    gobuild "${TOOLS}/k8s" "${c}" "k8s.io/kubernetes/cmd/${c}" -ldflags "-s -w${kv}"
  done
  gobuild "${TOOLS}/etcd" etcd go.etcd.io/etcd/server/v3 \
    -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=${ETCD_VERSION}"
  # kwok's own go.mod has no replace directives, so `go install pkg@version` is reproducible via the checksum DB.
  kwokflags="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${KUBE_VERSION#v}"
  for c in kwok kwokctl; do
    [[ -x "${BIN}/${c}" ]] && continue
    echo "building ${c} (sigs.k8s.io/kwok/cmd/${c}@${KWOK_VERSION})" >&2
    tmp="$(mktemp -d "${BIN}/.gobin.XXXXXX")"
    GOFLAGS=-trimpath GOBIN="${tmp}" nice -n 10 go install -ldflags "${kwokflags}" "sigs.k8s.io/kwok/cmd/${c}@${KWOK_VERSION}"
    mv -f "${tmp}/${c}" "${BIN}/${c}"
    rmdir "${tmp}"
  done
  echo "built ${BIN} in $((SECONDS - start))s" >&2
fi

echo "${BIN}"
