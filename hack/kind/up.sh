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
start=${SECONDS}
# Captured first: a failed build must end kind-up here (a failure inside eval's own substitution did not).
built="$(hack/kind/images.sh)"
eval "$(grep -E '^[A-Z0-9_]+=' <<<"${built}")"
echo "FIGURE application images (build or cache check): $((SECONDS - start)) s" >&2
# The stable names overlays/kind and overlays/kind/environment.yaml use, for each image images.sh built.
declare -A stable=([AIRFLOW_3_3_2]=airkube.local/airflow:3.3.2 [AIRFLOW_2_11_2]=airkube.local/airflow:2.11.2
  [AIRFLOW_3_3_2_FORTRAN]=airkube.local/airflow-fortran:3.3.2 [POSTGRES]=airkube.local/postgres:15 [REDIS]=airkube.local/redis:7
  [MOTO]=airkube.local/moto:5.2.6 [STATSD_EXPORTER]=airkube.local/statsd-exporter:${STATSD_EXPORTER_VERSION}
  [PROMETHEUS]=airkube.local/prometheus:${PROMETHEUS_VERSION} [KUBE_ROUTER]=airkube.local/kube-router:${KUBE_ROUTER_VERSION}
  [TRAEFIK]=airkube.local/traefik:${TRAEFIK_VERSION} [PROMETHEUS_OPERATOR]=airkube.local/prometheus-operator:${PROMETHEUS_OPERATOR_VERSION}
  [PROMETHEUS_CONFIG_RELOADER]=airkube.local/prometheus-config-reloader:${PROMETHEUS_OPERATOR_VERSION})
for key in "${!stable[@]}"; do docker tag "${!key}" "${stable[${key}]}"; done
# KEDA's operator and metrics API server, built from its Go module (hack/kind/keda.sh), under the names its
# manifests get.
start=${SECONDS}
built="$(hack/kind/keda.sh images)"
eval "$(grep -E '^KEDA_[A-Z]+=' <<<"${built}")"
stable[KEDA_OPERATOR]="${KEDA_OPERATOR}" stable[KEDA_ADAPTER]="${KEDA_ADAPTER}"
echo "FIGURE KEDA images (build or cache check): $((SECONDS - start)) s" >&2
# Our node image comes with the images in it (node-image.sh: a file copy per node, no load); a published
# one gets them loaded.
if [[ -n "${AIRKUBE_KIND_NODE_IMAGE:-}" ]]; then
  kubeconfig="$(kindctl create --image "${AIRKUBE_KIND_NODE_IMAGE}" | tail -n 1)"
  kindctl load "${stable[@]}"
else
  node="$(hack/kind/node-image.sh "${stable[@]}" | tail -n 1)"
  kubeconfig="$(kindctl create --image "${node}" --etcd-tag "${ETCD_VERSION}" --coredns-tag "${COREDNS_VERSION}" | tail -n 1)"
fi
# containerd unpacks a preloaded image on a node when a pod there first uses it: for the images every
# release starts with, that happens now, on every node at once and beside the steps below. (The Fortran
# group runs only on the worker; the rest unpack on first use.)
unpack() { # unpack NODE IMAGE...
  local node="$1" image
  shift
  for image in "$@"; do
    docker exec "${node}" sh -c 'm="$(mktemp -d)" && ctr -n k8s.io images mount "$1" "${m}" >/dev/null 2>&1 &&
      ctr -n k8s.io images unmount --rm "${m}" >/dev/null 2>&1; rmdir "${m}"' unpack "${image}" || true
  done
}
unpacking=()
unpack_start=${SECONDS}
if [[ -z "${AIRKUBE_KIND_NODE_IMAGE:-}" ]]; then
  for node in $(docker ps --filter "label=io.x-k8s.kind.cluster=${AIRKUBE_CLUSTER}" --format '{{.Names}}'); do
    images=("${stable[AIRFLOW_3_3_2]}" "${stable[POSTGRES]}" "${stable[REDIS]}")
    [[ "${node}" != *-worker ]] || images+=("${stable[AIRFLOW_3_3_2_FORTRAN]}")
    unpack "${node}" "${images[@]}" &
    unpacking+=($!)
  done
fi
# What every release needs: the CRDs of airkube's options, applied with the node image's own kubectl, and
# KEDA running, for the task groups that scale with their queue.
bin="$(hack/cluster/build.sh kind | tail -n 1)"
"${ROOT}/hack/cluster/crds.sh" "${bin}/kubectl" "${kubeconfig}"
hack/kind/keda.sh install "${bin}/kubectl" "${kubeconfig}"
# NetworkPolicies enforced by kube-router's policy controller; Prometheus in namespace monitoring, which finds
# every release's StatsD exporter by its Service; Traefik, the ingress and Gateway API controller, whose
# Gateway serves *.kind.test with a certificate from a CA of this cluster's own (tls/ beside the kubeconfig);
# an S3 server (moto's) in namespace moto, for task logs and XComs in object storage.
start=${SECONDS}
dir="$(dirname "${kubeconfig}")"
mkdir -p "${dir}/tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=airkube kind test CA" \
  -keyout "${dir}/tls/ca.key" -out "${dir}/tls/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=*.kind.test" -keyout "${dir}/tls/tls.key" 2>/dev/null |
  openssl x509 -req -CA "${dir}/tls/ca.crt" -CAkey "${dir}/tls/ca.key" -CAcreateserial -days 30 \
    -extfile <(printf 'subjectAltName=DNS:*.kind.test,DNS:kind.test\nextendedKeyUsage=serverAuth') -out "${dir}/tls/tls.crt" 2>/dev/null
kctl=("${bin}/kubectl" --kubeconfig "${kubeconfig}")
for m in kube-router:KUBE_ROUTER prometheus:PROMETHEUS traefik:TRAEFIK moto:MOTO; do
  sed "s#image: ${m%%:*}\$#image: ${stable[${m#*:}]}#" "hack/kind/${m%%:*}.yaml" |
    "${kctl[@]}" apply --server-side --field-manager airkube-up -f - >&2
done
"${kctl[@]}" -n traefik create secret tls kind-test-tls --cert "${dir}/tls/tls.crt" --key "${dir}/tls/tls.key" >&2
"${kctl[@]}" -n kube-system rollout status daemonset/kube-router --timeout 5m >&2
"${kctl[@]}" -n monitoring rollout status deployment/prometheus --timeout 5m >&2
"${kctl[@]}" -n traefik rollout status deployment/traefik --timeout 5m >&2
"${kctl[@]}" -n moto rollout status deployment/s3 --timeout 5m >&2
echo "FIGURE kube-router (NetworkPolicies), Prometheus, Traefik and the S3 server install to ready: $((SECONDS - start)) s" >&2
# The Prometheus Operator and a Prometheus it runs, for releases with metrics.serviceMonitor.
hack/kind/prometheus-operator.sh "${bin}/kubectl" "${kubeconfig}" "${stable[PROMETHEUS_OPERATOR]}" \
  "${stable[PROMETHEUS_CONFIG_RELOADER]}" "${stable[PROMETHEUS]}"
# What the by-hand steps run: the node image's kubectl, the pinned Helm CLI and airkube (make build).
helm="$(hack/tools/helm.sh | tail -n 1)"
go build -o bin/airkube ./generator/cmd/airkube
(( ${#unpacking[@]} == 0 )) || { wait "${unpacking[@]}"; echo "FIGURE kind images unpacked on the nodes: $((SECONDS - unpack_start)) s" >&2; }

# The by-hand steps for the README's weather release, kept beside the kubeconfig and printed; the kind
# suite runs this very file (TestE2EKindWeatherRelease), so what it prints is what is proven.
nas="${dir}/nas"
cat >"${dir}/by-hand.sh" <<STEPS
export KUBECONFIG=${kubeconfig} PATH="${bin}:$(dirname "${helm}"):\$PATH"
kubectl apply -f overlays/kind/environment.yaml
kubectl -n airflow create secret generic airflow-db --from-literal=password='p@ss:w/rd%#?&'
kubectl -n airflow create secret generic airflow-users --from-literal=admin="\$(head -c 18 /dev/urandom | base64)" --from-literal=forecaster="\$(head -c 18 /dev/urandom | base64)"
kubectl -n airflow create secret generic weather-connections --from-literal=grib_archive='ftp://wx:gr%21b%3Ap%40ss@grib.example.com:21'
kubectl -n airflow create secret generic weather-variables --from-literal=forecast_region=europe
cp tests/e2e/testdata/dags/airkube_e2e.py ${nas}/dags/
bin/airkube render -f values/weather-etl.yaml --overlay overlays/kind
helm upgrade --install weather-etl out/weather-etl --namespace airflow --wait --wait-for-jobs --timeout 15m
STEPS
cat >&2 <<HINT
kind cluster ${AIRKUBE_CLUSTER} is up: a control plane and a worker labelled pool=legacy (the Fortran group's
nodes), the CRDs of airkube's options, KEDA ${KEDA_VERSION} (the gis group scales with its queue), kube-router's
NetworkPolicy controller (policies are enforced), Prometheus (namespace monitoring; it scrapes every release's
StatsD exporter) and the Prometheus Operator with a Prometheus of its own (every ServiceMonitor), Traefik
(IngressClass traefik, and Gateway traefik/airkube for *.kind.test, on NodePort 30443 of every node, its CA in
${dir}/tls/ca.crt), an S3 server (moto's: endpoint_url http://s3.moto:5000, any access key) and the images of
overlays/kind. Its NAS stand-in is ${nas}.
The README's weather release, by hand, from the repository root (also in ${dir}/by-hand.sh):

$(sed 's/^/  /' "${dir}/by-hand.sh")

Then run a DAG with a task in every group (the DAG file above), and read the admin's password:
  kubectl -n airflow exec deploy/weather-etl-scheduler -c scheduler -- airflow dags trigger airkube_e2e_groups
  kubectl -n airflow get secret airflow-users -o jsonpath='{.data.admin}' | base64 -d
and ask Prometheus (http://127.0.0.1:9090 while this runs) for the DAG's task durations:
  kubectl -n monitoring port-forward deploy/prometheus 9090
  curl -s 127.0.0.1:9090/api/v1/query --data-urlencode 'query=airflow_task_duration_sum{dag_id="airkube_e2e_groups"}'
HINT
echo "${kubeconfig}"
