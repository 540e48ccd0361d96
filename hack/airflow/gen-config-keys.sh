#!/usr/bin/env bash
# Generates generator/airflowcfg/keys/* (valid/deprecated/sensitive config keys per Airflow minor) from real Airflow installs.
#
# Usage: hack/airflow/gen-config-keys.sh [--out-dir DIR] [VERSION...]
#   VERSIONs default to AIRKUBE_AIRFLOW_VERSIONS in versions.env (one per minor line); venvs come from venv.sh.
set -o errexit -o nounset -o pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${HERE}/../.." && pwd)"
# shellcheck source=versions.env
source "${HERE}/versions.env"

OUT="${REPO_ROOT}/generator/airflowcfg/keys"
if [[ "${1:-}" == "--out-dir" ]]; then OUT="$2"; shift 2; fi
VERSIONS=("$@")
[[ ${#VERSIONS[@]} -gt 0 ]] || read -r -a VERSIONS <<<"${AIRKUBE_AIRFLOW_VERSIONS}"
mkdir -p "${OUT}"

for v in "${VERSIONS[@]}"; do
  venv="$("${HERE}/venv.sh" "${v}" | tail -n 1)"
  minor="$(cut -d. -f1,2 <<<"${v}")"
  extra=()
  [[ "${v}" == "${AIRKUBE_AIRFLOW_LINT_RULES_FROM}" ]] && extra+=(--removed)
  home="$(mktemp -d)"
  echo "gen-config-keys.sh: ${v} -> ${OUT}/keys-${minor}.txt" >&2
  # Clean environment: no AIRFLOW__* overrides (in particular no AIRFLOW__CORE__UNIT_TEST_MODE).
  env -i PATH="${venv}/bin:/usr/bin:/bin" HOME="${home}" AIRFLOW_HOME="${home}" LANG=C.UTF-8 LC_ALL=C.UTF-8 \
    "${venv}/bin/python" "${HERE}/config_keys.py" --out-dir "${OUT}" --minor "${minor}" \
    --cmd "hack/airflow/gen-config-keys.sh ${v}" "${extra[@]}"
  rm -rf "${home}"
done
