#!/usr/bin/env bash
# Fails when generated files drift: gofmt, go.mod tidiness, golden output (regenerated in a temp copy).
set -o errexit -o nounset -o pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "${ROOT}"

unformatted="$(gofmt -l $(git ls-files '*.go'))"
if [[ -n "${unformatted}" ]]; then
  echo "gofmt needed on: ${unformatted}" >&2
  exit 1
fi

TMP="$(mktemp -d)"
trap 'rm -rf "${TMP}"' EXIT
# A copy of the tracked tree plus the working changes: what a fresh clone would hold.
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "${TMP}"
# The packages with golden files: each defines -update.
GOLDEN_PKGS="./tests/ ./generator/validate/ ./generator/docs/ ./generator/importer/"
(cd "${TMP}" && go mod tidy && go test ${GOLDEN_PKGS} -count=1 -update >/dev/null) || { echo "regenerating golden files failed" >&2; exit 1; }
status=0
for f in go.mod go.sum; do
  diff -u "${f}" "${TMP}/${f}" || { echo "${f} is not tidy: run go mod tidy" >&2; status=1; }
done
for d in tests/golden generator/validate/testdata generator/importer/testdata README.md; do
  diff -ru "${d}" "${TMP}/${d}" || { echo "${d} is stale: run make update-golden and review the diff" >&2; status=1; }
done
exit "${status}"
