#!/usr/bin/env bash
# Prints render benchmarks, then side-by-side figures from one run: airkube render of the weather release
# and of 100 task groups (median wall time of the whole command, process start to files written, and
# peak RSS), against the official Airflow chart's `helm template` of the weather-equivalent values in
# ../shared/peers (skipped, with a message, when that folder is absent).
set -o errexit -o nounset -o pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "${ROOT}"

go test ./generator/render/ -run '^$' -bench BenchmarkRender -benchmem -count 3
TMP="$(mktemp -d)"
trap 'rm -rf "${TMP}"' EXIT
# Peak RSS counts the binary's pages the kernel maps in, which varied by 9 MiB between two copies of
# the same build: both binaries are measured from fresh builds in one folder.
go build -o "${TMP}/airkube" ./generator/cmd/airkube
go build -o "${TMP}/bench" ./hack/bench

# The 100 groups of BenchmarkRender, as a spec file.
"${TMP}/bench" -spec-groups 100 >"${TMP}/groups-100.yaml"

median() { sed -n 's/.*median \([0-9.]*\) ms.*/\1/p' <<<"$1"; }
ours="$("${TMP}/bench" "airkube render values/weather-etl.yaml" -- "${TMP}/airkube" render -f values/weather-etl.yaml --out "${TMP}/out")"
echo "${ours}"
"${TMP}/bench" "airkube render of 100 task groups" -- "${TMP}/airkube" render -f "${TMP}/groups-100.yaml" --out "${TMP}/out"

PEERS="${ROOT}/../shared/peers"
if [[ ! -d "${PEERS}/official-airflow-chart-1.19.0" || ! -f "${PEERS}/official-wx-values.args" ]]; then
  echo "bench.sh: ${PEERS} is absent: no side-by-side figure against the official chart" >&2
  exit 0
fi
helm="$(hack/tools/helm.sh | tail -n 1)"
read -ra args <"${PEERS}/official-wx-values.args"
theirs="$("${TMP}/bench" -n 11 "official chart 1.19.0 helm template, weather-equivalent values" -- \
  "${helm}" template wx "${PEERS}/official-airflow-chart-1.19.0" "${args[@]}")"
echo "${theirs}"
awk -v a="$(median "${ours}")" -v b="$(median "${theirs}")" \
  'BEGIN {printf "FIGURE bench airkube render takes 1/%.0f of the official chart'"'"'s helm template (%.1f ms against %.1f ms)\n", b / a, a, b}'
