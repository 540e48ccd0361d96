#!/usr/bin/env bash
# Builds the pinned control-plane binaries (k8s, etcd, kwok) into the cache if missing; prints the bin dir last.
# `build.sh kind` also builds what a kind node runs (kubelet, kubeadm, kube-proxy, containerd, crictl, CNI
# plugins, CoreDNS, pause): the same Kubernetes version for the kwok and the kind suites, compiled once.
set -o errexit -o nounset -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="${ROOT}/hack/tools"
# shellcheck source=/dev/null
source "${TOOLS}/versions.env"

CACHE="${AIRKUBE_CACHE:-${HOME}/.cache/airkube}"
# The stamp changes whenever a pin changes: versions.env or the wrapper modules' go.mod/go.sum.
# Bump RECIPE when the build flags below change, so cached binaries are rebuilt.
RECIPE=1
# Only the pins of what it builds count (a Helm or KEDA bump in versions.env rebuilds nothing).
pins="${KUBE_VERSION} ${KUBE_STAGING_VERSION} ${ETCD_VERSION} ${KWOK_VERSION} ${CONTAINERD_VERSION} ${CRICTL_VERSION} ${CNI_PLUGINS_VERSION} ${COREDNS_VERSION}"
hash="$(echo "${RECIPE} ${pins}" | cat - "${TOOLS}"/k8s/go.{mod,sum} "${TOOLS}"/etcd/go.{mod,sum} \
  "${ROOT}"/hack/kind/go.{mod,sum} "${ROOT}/hack/kind/pause/main.go" | sha256sum | cut -c1-12)"
BIN="${CACHE}/bin/k8s-${KUBE_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_${hash}"
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok kwokctl)
CNI_PLUGINS=(bridge host-local loopback portmap)
if [[ "${1:-}" == kind ]]; then
  BINARIES+=(kubelet kubeadm kube-proxy containerd ctr containerd-shim-runc-v2 crictl coredns pause "${CNI_PLUGINS[@]/#/cni/}")
fi

complete() { for b in "${BINARIES[@]}"; do [[ -x "${BIN}/${b}" ]] || return 1; done; }

if ! complete; then
  mkdir -p "${BIN}/cni"
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
  for c in kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kubeadm kube-proxy; do
    [[ " ${BINARIES[*]} " == *" ${c} "* ]] || continue
    gobuild "${TOOLS}/k8s" "${c}" "k8s.io/kubernetes/cmd/${c}" -ldflags "-s -w${kv}"
  done
  gobuild "${TOOLS}/etcd" etcd go.etcd.io/etcd/server/v3 \
    -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=${ETCD_VERSION}"
  # These modules' go.mod files have no replace directives, so `go install pkg@version` is reproducible
  # through the checksum database.
  goinstall() { # goinstall <name in BIN> <package@version> [go install flags...]
    local name="$1" pkg="$2"; shift 2
    [[ -x "${BIN}/${name}" ]] && return 0
    echo "building ${name} (${pkg})" >&2
    local tmp; tmp="$(mktemp -d "${BIN}/.gobin.XXXXXX")"
    GOFLAGS=-trimpath GOBIN="${tmp}" nice -n 10 go install "$@" "${pkg}"
    mv -f "${tmp}/$(basename "${pkg%@*}")" "${BIN}/${name}"
    rmdir "${tmp}"
  }
  kwokflags="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${KUBE_VERSION#v}"
  for c in kwok kwokctl; do
    goinstall "${c}" "sigs.k8s.io/kwok/cmd/${c}@${KWOK_VERSION}" -ldflags "${kwokflags}"
  done
  if [[ "${1:-}" == kind ]]; then
    # containerd as kind's base image builds it, minus the snapshotters kind never selects (and so cgo).
    ctrdflags="-s -w -X github.com/containerd/containerd/v2/version.Version=${CONTAINERD_VERSION}"
    for c in containerd ctr containerd-shim-runc-v2; do
      goinstall "${c}" "github.com/containerd/containerd/v2/cmd/${c}@${CONTAINERD_VERSION}" \
        -tags "no_aufs no_zfs no_btrfs no_devmapper" -ldflags "${ctrdflags}"
    done
    goinstall crictl "sigs.k8s.io/cri-tools/cmd/crictl@${CRICTL_VERSION}" -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=${CRICTL_VERSION}"
    goinstall coredns "github.com/coredns/coredns@${COREDNS_VERSION}" -ldflags "-s -w"
    for p in "${CNI_PLUGINS[@]}"; do
      dir=main; [[ "${p}" == host-local ]] && dir=ipam; [[ "${p}" == portmap ]] && dir=meta
      goinstall "cni/${p}" "github.com/containernetworking/plugins/plugins/${dir}/${p}@${CNI_PLUGINS_VERSION}" -ldflags "-s -w"
    done
    gobuild "${ROOT}/hack/kind" pause ./pause -ldflags "-s -w"
  fi
  echo "built ${BIN} in $((SECONDS - start))s" >&2
fi

echo "${BIN}"
