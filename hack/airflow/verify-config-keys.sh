#!/usr/bin/env bash
# Regenerates the Airflow config key lists into a temp dir (venvs via venv.sh) and fails, showing the diff, if the committed ones drifted.
set -o errexit -o nounset -o pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${HERE}/../.." && pwd)"
KEYS="${REPO_ROOT}/generator/airflowcfg/keys"

tmp="$(mktemp -d)"
trap 'rm -rf "${tmp}"' EXIT
"${HERE}/gen-config-keys.sh" --out-dir "${tmp}/keys"

# Compare only generated files (keys-*, deprecated-*, sensitive-*, removed-*), both ways.
mkdir -p "${tmp}/committed"
shopt -s nullglob
for f in "${KEYS}"/keys-*.txt "${KEYS}"/deprecated-*.tsv "${KEYS}"/sensitive-*.txt "${KEYS}"/removed-*.tsv; do
  cp "${f}" "${tmp}/committed/"
done
if ! diff -ru "${tmp}/committed" "${tmp}/keys"; then
  echo "verify-config-keys.sh: generator/airflowcfg/keys is out of date: run hack/airflow/gen-config-keys.sh" >&2
  exit 1
fi
echo "verify-config-keys.sh: generator/airflowcfg/keys is up to date" >&2
