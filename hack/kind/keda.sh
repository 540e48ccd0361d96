#!/usr/bin/env bash
# KEDA on the kind cluster, from its Go module (no registry): the operator and the metrics API server built
# from the wrapper module hack/tools/keda (KEDA_VERSION, with the Go toolchain KEDA_GO_TOOLCHAIN from the
# module proxy), each on a small Debian image (rootfs.sh), installed with KEDA's own manifests: config/minimal
# of its module (the CRDs, RBAC, the operator, which makes and rotates its own certificates, the metrics API
# server and its APIService; not the admission webhooks), with these images.
#
#   keda.sh images                      build or find the images, tag them with the names the manifests use and
#                                       print KEDA_OPERATOR=ref and KEDA_ADAPTER=ref last (the caller loads them)
#   keda.sh install KUBECTL KUBECONFIG  apply the manifests and wait until the external metrics API serves
set -o errexit -o nounset -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=/dev/null
source "${ROOT}/hack/tools/versions.env"
CACHE="${AIRKUBE_CACHE:-${HOME}/.cache/airkube}"
MOD="${ROOT}/hack/tools/keda"
# The names the manifests use.
IMAGES=(KEDA_OPERATOR=airkube.local/keda:${KEDA_VERSION} KEDA_ADAPTER=airkube.local/keda-metrics-apiserver:${KEDA_VERSION})

case "${1:-}" in
images)
  "${ROOT}/hack/kind/engine.sh"
  # Bump RECIPE when the build flags change.
  RECIPE=1
  hash="$(echo "${RECIPE} ${KEDA_VERSION} ${KEDA_GO_TOOLCHAIN}" | cat - "${MOD}"/go.{mod,sum} | sha256sum | cut -c1-12)"
  BIN="${CACHE}/bin/keda-${KEDA_VERSION}_${hash}"
  mkdir -p "${BIN}"
  for spec in KEDA_OPERATOR:operator:keda KEDA_ADAPTER:adapter:keda-adapter; do
    IFS=: read -r key pkg name <<<"${spec}"
    if [[ ! -x "${BIN}/${name}" ]]; then
      echo "building ${name} (KEDA ${KEDA_VERSION}, ${KEDA_GO_TOOLCHAIN})" >&2
      start=${SECONDS}
      (cd "${MOD}" && GOTOOLCHAIN="${KEDA_GO_TOOLCHAIN}" GOWORK=off GOFLAGS="-trimpath -mod=readonly" CGO_ENABLED=0 nice -n 10 \
        go build -ldflags "-s -w -X github.com/kedacore/keda/v2/version.Version=${KEDA_VERSION#v}" \
        -o "${BIN}/.${name}.tmp" "github.com/kedacore/keda/v2/cmd/${pkg}")
      mv -f "${BIN}/.${name}.tmp" "${BIN}/${name}"
      echo "FIGURE build ${name}: $((SECONDS - start)) s" >&2
    fi
    # uid 1000 as a number: the manifests ask runAsNonRoot, which the kubelet checks on a numeric USER.
    ref="$("${ROOT}/hack/kind/rootfs.sh" "${name}" "ca-certificates" "${ROOT}/hack/kind/images/binaries.sh" \
      --input "${BIN}/${name}" --change 'USER 1000:1000' --change "ENTRYPOINT [\"/bin/${name}\"]" | tail -n 1)"
    # Tagged with the name the manifests get (IMAGES), which is what the nodes load.
    for kv in "${IMAGES[@]}"; do [[ "${kv%%=*}" != "${key}" ]] || docker tag "${ref}" "${kv#*=}"; done
  done
  printf '%s\n' "${IMAGES[@]}"
  ;;
install)
  [[ $# -eq 3 ]] || { sed -n 10p "${BASH_SOURCE[0]}" >&2; exit 2; }
  kctl=("$2" --kubeconfig "$3")
  src="$(GOTOOLCHAIN="${KEDA_GO_TOOLCHAIN}" "${ROOT}/hack/tools/moddir.sh" "github.com/kedacore/keda/v2@${KEDA_VERSION}")"
  work="$(mktemp -d)"
  trap 'rm -rf "${work}"' EXIT
  cp -r "${src}/config" "${work}/config"
  chmod -R u+w "${work}"
  mkdir "${work}/config/airkube"
  operator="${IMAGES[0]#*=}" adapter="${IMAGES[1]#*=}"
  cat >"${work}/config/airkube/kustomization.yaml" <<KUSTOMIZATION
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../minimal
images:
- {name: ghcr.io/kedacore/keda, newName: ${operator%:*}, newTag: ${operator##*:}}
- {name: ghcr.io/kedacore/keda-metrics-apiserver, newName: ${adapter%:*}, newTag: ${adapter##*:}}
patches:
# The images are in the nodes already (in the node image): Always would go to a registry.
- target: {kind: Deployment}
  patch: |-
    - {op: replace, path: /spec/template/spec/containers/0/imagePullPolicy, value: IfNotPresent}
# Our images keep their binaries in /bin (hack/kind/images/binaries.sh), KEDA's at /.
- target: {kind: Deployment, name: keda-operator}
  patch: |-
    - {op: replace, path: /spec/template/spec/containers/0/command, value: [/bin/keda]}
- target: {kind: Deployment, name: keda-metrics-apiserver}
  patch: |-
    - {op: replace, path: /spec/template/spec/containers/0/command, value: [/bin/keda-adapter]}
KUSTOMIZATION
  start=${SECONDS}
  "$2" kustomize "${work}/config/airkube" >"${work}/keda.yaml"
  "${kctl[@]}" apply --server-side --force-conflicts --field-manager airkube-up -f "${work}/keda.yaml" >&2
  "${kctl[@]}" -n keda rollout status deployment/keda-operator deployment/keda-metrics-apiserver --timeout 5m >&2
  "${kctl[@]}" wait --for=condition=Available apiservice/v1beta1.external.metrics.k8s.io --timeout 5m >&2
  echo "FIGURE KEDA install to serving external metrics: $((SECONDS - start)) s" >&2
  ;;
*)
  sed -n 8,10p "${BASH_SOURCE[0]}" >&2
  exit 2
  ;;
esac
