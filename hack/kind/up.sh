#!/usr/bin/env bash
# Brings up the kind cluster with real pods (make kind-up): a container engine, the node image and the
# application images built from packages and Go modules (cached by content), the cluster, and the images
# loaded into its nodes. Prints the kubeconfig path last. hack/kind/down.sh removes all of it.
#
# AIRKUBE_KIND_NODE_IMAGE uses a published kindest/node image instead of building one (a registry must be
# reachable; the cluster then runs kind's own CNI).
set -o errexit -o nounset -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "${ROOT}"
# shellcheck source=/dev/null
source hack/tools/versions.env
export AIRKUBE_CLUSTER="${AIRKUBE_CLUSTER:-airkube}"
kindctl() { (cd hack/kind && go run . "$@"); }

hack/kind/engine.sh
if [[ -n "${AIRKUBE_KIND_NODE_IMAGE:-}" ]]; then
  create=(--image "${AIRKUBE_KIND_NODE_IMAGE}")
else
  create=(--image "$(hack/kind/node-image.sh | tail -n 1)" --etcd-tag "${ETCD_VERSION}" --coredns-tag "${COREDNS_VERSION}")
fi
start=${SECONDS}
eval "$(hack/kind/images.sh | grep -E '^[A-Z0-9_]+=')"
echo "FIGURE application images (build or cache check): $((SECONDS - start)) s" >&2
# The stable names overlays/kind and overlays/kind/environment.yaml use, for each image images.sh built.
declare -A stable=([AIRFLOW_3_3_2]=airkube.local/airflow:3.3.2 [AIRFLOW_2_11_2]=airkube.local/airflow:2.11.2
  [AIRFLOW_3_3_2_FORTRAN]=airkube.local/airflow-fortran:3.3.2 [POSTGRES]=airkube.local/postgres:15 [REDIS]=airkube.local/redis:7)
for key in "${!stable[@]}"; do docker tag "${!key}" "${stable[${key}]}"; done
kubeconfig="$(kindctl create "${create[@]}" | tail -n 1)"
kindctl load "${stable[@]}"
# What every release needs: the CRDs of airkube's options, applied with the node image's own kubectl.
"${ROOT}/hack/cluster/crds.sh" "$(hack/cluster/build.sh kind | tail -n 1)/kubectl" "${kubeconfig}"
cat >&2 <<HINT
kind cluster ${AIRKUBE_CLUSTER} is up; its NAS stand-in is ${AIRKUBE_CACHE:-${HOME}/.cache/airkube}/kind/${AIRKUBE_CLUSTER}/nas.
  export KUBECONFIG=${kubeconfig}
  kubectl apply -f overlays/kind/environment.yaml
  kubectl -n airflow create secret generic airflow-db --from-literal=password='p@ss:w/rd%#?&'
  kubectl -n airflow create secret generic airflow-users --from-literal=admin="\$(head -c 18 /dev/urandom | base64)" --from-literal=forecaster="\$(head -c 18 /dev/urandom | base64)"
  kubectl -n airflow create secret generic weather-connections --from-literal=grib_archive='ftp://wx:gr%21b%3Ap%40ss@grib.example.com:21'
  kubectl -n airflow create secret generic weather-variables --from-literal=forecast_region=europe
  bin/airkube render -f values/weather-etl.yaml --overlay overlays/kind
  helm upgrade --install weather-etl out/weather-etl --namespace airflow --wait --wait-for-jobs --timeout 15m
HINT
echo "${kubeconfig}"
