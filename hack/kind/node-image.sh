#!/usr/bin/env bash
# Builds the kind node image from Debian packages and Go modules (no registry), cached by content hash;
# prints the image reference last.
#
# kind's own node images start from its base image (images/base in the kind module) and add Kubernetes.
# Here the same happens in two steps: hack/kind/rootfs.sh makes the base from Debian bookworm with kind's
# static files, Debian's runc and our Go builds (hack/cluster/build.sh kind); then the control-plane images
# (built from the same binaries) are imported into the node's containerd and the container is committed,
# as `kind build node-image` does, so kubeadm pulls nothing.
#
#   node-image.sh [IMAGE...]
#
# With IMAGEs (docker images, under the names pods use), a second image is made on top of the node image
# with those images in its containerd too, named after their IDs: a cluster made from it needs no
# `kind load`. Each node's /var is a volume Docker fills from the image when the node is created, so the
# images arrive as a file copy (not a save, import and unpack per node); containerd unpacks an image on
# a node when a pod there first uses it. Only the newest such image is kept.
set -o errexit -o nounset -o pipefail
apps=("$@")

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="${ROOT}/hack/kind"
# shellcheck source=/dev/null
source "${ROOT}/hack/tools/versions.env"
CACHE="${AIRKUBE_CACHE:-${HOME}/.cache/airkube}"
export DOCKER_BUILDKIT=0

"${HERE}/engine.sh"
start=${SECONDS}
BIN="$("${ROOT}/hack/cluster/build.sh" kind | tail -n 1)"
# kind's base files (images/base/files), from the version hack/kind/go.mod requires.
KIND_DIR="$(cd "${HERE}" && "${ROOT}/hack/tools/moddir.sh" sigs.k8s.io/kind)"
# Image names kubeadm is told to use (hack/kind/main.go patches ClusterConfiguration.imageRepository).
REPO=airkube.local
stamp="$(basename "${BIN}" | sed 's/.*_//')"
PAUSE="${REPO}/pause:${stamp}"

work="$(mktemp -d "${CACHE}/.node-image.XXXXXX")"
trap 'rm -rf "${work}"' EXIT

# Control-plane images: each binary on a small Debian base (kube-proxy needs nft and conntrack there).
cpbase="$("${HERE}/rootfs.sh" k8s-base "nftables conntrack iptables ca-certificates" - | tail -n 1)"
images=()
cpimage() { # cpimage <image ref> <binary> [entrypoint json]
  local ref="$1" bin="$2" entry="${3:-}" ctx="${work}/ctx-$2"
  mkdir -p "${ctx}"
  cp "${BIN}/${bin}" "${ctx}/${bin}"
  { echo "FROM ${cpbase}"; echo "COPY ${bin} /usr/local/bin/${bin}"
    [[ -z "${entry}" ]] || echo "ENTRYPOINT ${entry}"; } >"${ctx}/Dockerfile"
  docker build -q -t "${ref}" "${ctx}" >/dev/null
  images+=("${ref}")
}
for c in kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do
  cpimage "${REPO}/${c}:${KUBE_VERSION}" "${c}"
done
cpimage "${REPO}/etcd:${ETCD_VERSION}" etcd
cpimage "${REPO}/coredns:${COREDNS_VERSION}" coredns '["/usr/local/bin/coredns"]'
cpimage "${PAUSE}" pause '["/usr/local/bin/pause"]'

# The image's name hashes every input: the base recipe's inputs (hashed by rootfs.sh) and the images.
ids="$(docker image inspect -f '{{.Id}}' "${images[@]}" | sha256sum | cut -c1-12)"

# Inputs of the node rootfs.
tar -C "${KIND_DIR}/images/base/files" --owner=0 --group=0 -cf "${work}/kind-files.tar" .
mkdir -p "${work}/b/usr/local/bin" "${work}/b/usr/bin" "${work}/b/opt/cni/bin"
cp "${BIN}"/{containerd,ctr,containerd-shim-runc-v2,crictl} "${work}/b/usr/local/bin/"
cp "${BIN}"/{kubelet,kubeadm,kubectl} "${work}/b/usr/bin/"
cp "${BIN}"/cni/* "${work}/b/opt/cni/bin/"
tar -C "${work}/b" --owner=0 --group=0 --mtime=@0 --sort=name -cf "${work}/binaries.tar" .
echo "${PAUSE}" >"${work}/pause-image"
echo "${KUBE_VERSION}" >"${work}/kind-version"
cp "${CACHE}/engine/drop-caps" "${work}/drop-caps" 2>/dev/null || : >"${work}/drop-caps"
base="$("${HERE}/rootfs.sh" kind-base \
  "systemd conntrack iptables nftables iproute2 ethtool util-linux mount kmod libseccomp2 pigz fuse-overlayfs e2fsprogs bash ca-certificates curl jq procps runc" \
  "${HERE}/node/setup.sh" \
  --input "${work}/kind-files.tar" --input "${work}/binaries.tar" --input "${work}/pause-image" \
  --input "${work}/kind-version" --input "${work}/drop-caps" \
  --change 'ENV container=docker' \
  --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' | tail -n 1)"
node="${REPO}/kind-node:${KUBE_VERSION}-${base##*:}-${ids}"

preload() { # preload FROM TO IMAGE...: TO is FROM with the IMAGEs in its containerd, pinned, not unpacked
  local from="$1" to="$2"
  shift 2
  # Imported into a container of FROM whose containerd we start, then committed, as kind's node build
  # does. bash as PID 1 reaps the containerd we start and stop, so no zombie outlives it.
  cid="$(docker run -d --privileged --entrypoint bash "${from}" -c 'trap exit TERM; while :; do sleep 1 & wait; done')"
  trap 'docker rm -f -v "${cid}" >/dev/null 2>&1 || true; rm -rf "${work}"' EXIT
  docker exec "${cid}" bash -c 'nohup containerd >/tmp/containerd.log 2>&1 &'
  for _ in $(seq 60); do docker exec "${cid}" ctr version >/dev/null 2>&1 && break; sleep 0.5; done
  docker save "$@" | docker exec -i "${cid}" ctr --namespace=k8s.io images import --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack --digests -
  docker exec "${cid}" ctr --namespace=k8s.io images ls -q >&2
  docker exec "${cid}" bash -c 'pkill containerd; while pgrep -x containerd >/dev/null; do sleep 0.2; done; rm -f /tmp/containerd.log'
  docker commit "${cid}" "${to}-preload" >/dev/null
  docker rm -f -v "${cid}" >/dev/null
  trap 'rm -rf "${work}"' EXIT
  # systemd stops on SIGRTMIN+3, not SIGTERM (docker commit and import cannot set STOPSIGNAL; a build can).
  printf 'FROM %s\nSTOPSIGNAL SIGRTMIN+3\nENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]\n' "${to}-preload" |
    docker build -q -t "${to}" - >/dev/null
  docker rmi "${to}-preload" >/dev/null
}

if ! docker image inspect "${node}" >/dev/null 2>&1; then
  preload "${base}" "${node}" "${images[@]}"
  echo "FIGURE kind node image built: $((SECONDS - start)) s" >&2
fi
if (( ${#apps[@]} == 0 )); then
  echo "${node}"
  exit 0
fi

# The node image with the applications' images: named after the node image and the images' names and IDs.
start=${SECONDS}
appids="$(for a in "${apps[@]}"; do echo "${a} $(docker image inspect -f '{{.Id}}' "${a}")"; done | sort | sha256sum | cut -c1-12)"
withapps="${node}-apps-${appids}"
if ! docker image inspect "${withapps}" >/dev/null 2>&1; then
  preload "${node}" "${withapps}" "${apps[@]}"
  echo "FIGURE kind node image with ${#apps[@]} application images built: $((SECONDS - start)) s" >&2
  # Older ones go: each holds gigabytes of images no cluster will be made from again.
  docker images --format '{{.Repository}}:{{.Tag}}' "${REPO}/kind-node" | grep -- '-apps-' | grep -vxF "${withapps}" |
    xargs -r docker rmi >/dev/null 2>&1 || true
fi
echo "${withapps}"
