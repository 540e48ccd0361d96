#!/usr/bin/env bash
# Creates (or updates) a fake kwok Node: nodes.sh NAME [-l key=value]... [-t key=value:Effect]...
#
# Same thing without this script (what the Go e2e suite does): create a Node with the annotation
# kwok.x-k8s.io/node=fake (kwok-controller manages all nodes in this cluster; the annotation and the
# type=kwok label keep it recognisable) plus whatever labels/taints the test needs. kwok fills in status
# (Ready, 1k cpu / 1Ti memory / 1M pods unless status.allocatable is set) and keeps its lease fresh.
# Pods land on it only if they match its labels/taints like on any node; no container ever runs.
set -o errexit -o nounset -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[[ $# -ge 1 ]] || { sed -n 2p "${BASH_SOURCE[0]}" >&2; exit 2; }
name="$1"; shift
labels="" taints=""
while getopts "l:t:" opt; do
  case "${opt}" in
    l) labels+="    ${OPTARG%%=*}: \"${OPTARG#*=}\""$'\n' ;;
    t) kv="${OPTARG%:*}"; [[ "${kv}" == *=* ]] || kv+="="   # key=value:Effect or key:Effect
       taints+="  - {key: \"${kv%%=*}\", value: \"${kv#*=}\", effect: \"${OPTARG##*:}\"}"$'\n' ;;
    *) exit 2 ;;
  esac
done

if [[ -n "${AIRKUBE_NODES_KUBECONFIG:-}" ]]; then
  KUBECONFIG="${AIRKUBE_NODES_KUBECONFIG}"   # set by up.sh, which makes its node with this script
else
  KUBECONFIG="$("${ROOT}/hack/cluster/up.sh" | tail -n 1)"   # no-op when the cluster already runs
fi
BIN="$("${ROOT}/hack/cluster/build.sh" | tail -n 1)"
"${BIN}/kubectl" --kubeconfig "${KUBECONFIG}" apply -f - >&2 <<YAML
apiVersion: v1
kind: Node
metadata:
  name: ${name}
  annotations:
    kwok.x-k8s.io/node: fake
  labels:
    type: kwok
    kubernetes.io/hostname: ${name}
${labels}spec:
  taints:
${taints:-    []}
YAML
"${BIN}/kubectl" --kubeconfig "${KUBECONFIG}" wait --for=condition=Ready "node/${name}" --timeout=60s >&2
