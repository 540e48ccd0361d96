#!/usr/bin/env bash
# Prints render benchmarks and the CLI's end-to-end time (process start to files written).
set -o errexit -o nounset -o pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "${ROOT}"

go test ./generator/render/ -run '^$' -bench BenchmarkRender -benchmem -count 3
go build -o bin/airkube ./generator/cmd/airkube
OUT="$(mktemp -d)"
trap 'rm -rf "${OUT}"' EXIT
# Median of 21 runs of the whole command, in milliseconds.
for i in $(seq 21); do
  start=$(date +%s%N)
  bin/airkube render -f values/weather-etl.yaml --out "${OUT}" >/dev/null
  echo $(( ($(date +%s%N) - start) / 1000000 ))
done | sort -n | awk '{a[NR]=$1} END {printf "airkube render values/weather-etl.yaml: median %d ms, min %d ms, max %d ms (21 runs)\n", a[11], a[1], a[21]}'
