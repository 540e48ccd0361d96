#!/usr/bin/env bash
# Creates (once, cached) a virtualenv with real Apache Airflow VERSION + pinned providers and prints its path last.
#
# Usage:
#   hack/airflow/venv.sh VERSION          ensure the cached venv for VERSION, print its path as the last stdout line
#   hack/airflow/venv.sh --lock VERSION   re-resolve VERSION (providers at the pins in versions.env, or newest when
#                                         unpinned), write hack/airflow/requirements-VERSION.txt from `pip freeze`
#                                         and the provider pins into versions.env
#   hack/airflow/venv.sh --lock --keep VERSION
#                                         the same, constrained by the current lock's pins (except the packages
#                                         AIRKUBE_LOCK_EXTRA_<VERSION> names): adding a package moves nothing else
#   hack/airflow/venv.sh --uv             ensure the pinned uv (AIRKUBE_UV_VERSION), print its path last
# Env: AIRKUBE_CACHE (default ~/.cache/airkube), AIRKUBE_AIRFLOW_PYTHON (default python3),
#      AIRKUBE_AIRFLOW_NO_UV=1 to install with plain pip instead of uv.
# All logs go to stderr.
set -o errexit -o nounset -o pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${HERE}/../.." && pwd)"
# shellcheck source=versions.env
source "${HERE}/versions.env"

log() { echo "venv.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

LOCK_MODE=0 UV_MODE=0 KEEP=0
if [[ "${1:-}" == "--lock" ]]; then LOCK_MODE=1; shift; fi
if [[ "${LOCK_MODE}" == "1" && "${1:-}" == "--keep" ]]; then KEEP=1; shift; fi
if [[ "${1:-}" == "--uv" && $# -eq 1 ]]; then UV_MODE=1; set -- 0.0.0; fi
[[ $# -eq 1 ]] || die "usage: $0 [--lock] VERSION | --uv  (known: ${AIRKUBE_AIRFLOW_VERSIONS})"
VERSION="$1"
[[ "${VERSION}" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "VERSION must be X.Y.Z, got '${VERSION}'"

CACHE_ROOT="${AIRKUBE_CACHE:-${HOME}/.cache/airkube}"
AF_CACHE="${CACHE_ROOT}/airflow"
mkdir -p "${AF_CACHE}"
export UV_CACHE_DIR="${UV_CACHE_DIR:-${CACHE_ROOT}/uv-cache}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

PY="${AIRKUBE_AIRFLOW_PYTHON:-python3}"
PY_EXE="$("${PY}" -c 'import sys; print(sys.executable)')" || die "no python '${PY}'"
PY_VER="$("${PY_EXE}" -c 'import platform; print(platform.python_version())')"
REQ="${HERE}/requirements-${VERSION}.txt"
PINS_VAR="AIRKUBE_PROVIDER_PINS_${VERSION//./_}"
PINS="${!PINS_VAR:-}"

# --- uv in a small tool venv (optional speed-up) ---------------------------------------------------
UV=""
ensure_uv() {
  [[ "${AIRKUBE_AIRFLOW_NO_UV:-}" == "1" || -z "${AIRKUBE_UV_VERSION:-}" ]] && return 0
  local tool="${CACHE_ROOT}/tools/uv-${AIRKUBE_UV_VERSION}"
  mkdir -p "${CACHE_ROOT}/tools"
  (
    flock 8
    if [[ ! -x "${tool}/bin/uv" ]]; then
      log "installing uv==${AIRKUBE_UV_VERSION} into ${tool}"
      rm -rf "${tool}"
      "${PY_EXE}" -m venv "${tool}" >&2
      "${tool}/bin/pip" install -q "uv==${AIRKUBE_UV_VERSION}" >&2
    fi
  ) 8>"${CACHE_ROOT}/tools/.uv.lock"
  UV="${tool}/bin/uv"
}
if [[ "${UV_MODE}" == "1" ]]; then
  [[ -n "${AIRKUBE_UV_VERSION:-}" ]] || die "AIRKUBE_UV_VERSION is empty in versions.env"
  AIRKUBE_AIRFLOW_NO_UV="" ensure_uv
  echo "${UV}"
  exit 0
fi

# pip_install VENV ARGS... : install into VENV with uv (or pip)
pip_install() {
  local venv="$1"; shift
  if [[ -n "${UV}" ]]; then
    "${UV}" pip install --python "${venv}/bin/python" "$@" >&2
  else
    "${venv}/bin/pip" install "$@" >&2
  fi
}

pip_freeze() {
  local venv="$1"
  if [[ -n "${UV}" ]]; then
    "${UV}" pip freeze --python "${venv}/bin/python" --exclude-editable
  else
    "${venv}/bin/pip" freeze --exclude-editable
  fi
}

# --- system build deps for mysqlclient (sdist only on Linux) ----------------------------------------
ensure_mysql_build_deps() {
  if pkg-config --exists mysqlclient 2>/dev/null && command -v gcc >/dev/null; then return 0; fi
  log "mysqlclient needs libmysqlclient headers, pkg-config and a C compiler: installing them with apt-get"
  "${HERE}/../tools/apt-install.sh" --with-recommends default-libmysqlclient-dev pkg-config build-essential
  pkg-config --exists mysqlclient || die "pkg-config still cannot find mysqlclient"
}

needs_mysql() { grep -qiE '^(mysqlclient|apache-airflow-providers-mysql)' "$1"; }

# --- --lock: resolve and write requirements-VERSION.txt ---------------------------------------------
if [[ "${LOCK_MODE}" == "1" ]]; then
  ensure_uv
  tmp="$(mktemp -d)"; trap 'rm -rf "${tmp}"' EXIT
  reqs=("apache-airflow==${VERSION}")
  if [[ -n "${PINS}" ]]; then read -r -a p <<<"${PINS}"; reqs+=("${p[@]}")
  else read -r -a p <<<"${AIRKUBE_AIRFLOW_PROVIDERS}"; reqs+=("${p[@]}"); fi
  read -r -a p <<<"${AIRKUBE_AIRFLOW_EXTRA_PACKAGES:-}"; reqs+=("${p[@]}")
  # Extra specifiers for the resolve (e.g. a transitive cap Airflow's own constraint files would apply).
  extra_var="AIRKUBE_LOCK_EXTRA_${VERSION//./_}"
  if [[ -n "${!extra_var:-}" ]]; then read -r -a p <<<"${!extra_var}"; reqs+=("${p[@]}"); fi
  printf '%s\n' "${reqs[@]}" >"${tmp}/top.txt"
  needs_mysql "${tmp}/top.txt" && ensure_mysql_build_deps
  constrain=()
  if [[ "${KEEP}" == "1" ]]; then
    [[ -f "${REQ}" ]] || die "--keep: no ${REQ#"${REPO_ROOT}"/} to keep"
    # The names the extra specifiers give (e.g. a package a new one needs at another version) are free.
    free="$(for s in ${!extra_var:-}; do echo "${s%%[<>=!~;]*}"; done | tr 'A-Z_' 'a-z-')"
    grep -v '^#' "${REQ}" | while IFS= read -r line; do
      name="$(echo "${line%%==*}" | tr 'A-Z_' 'a-z-')"
      grep -qxF "${name}" <<<"${free}" || echo "${line}"
    done >"${tmp}/keep.txt"
    constrain=(-c "${tmp}/keep.txt")
  fi
  log "resolving ${reqs[*]} with python ${PY_VER}${constrain[*]:+, keeping the other pins of ${REQ##*/}}"
  "${PY_EXE}" -m venv "${tmp}/venv" >&2
  start=$SECONDS
  pip_install "${tmp}/venv" -r "${tmp}/top.txt" "${constrain[@]+"${constrain[@]}"}"
  log "resolve+install took $((SECONDS - start))s"
  "${tmp}/venv/bin/python" -m pip check >&2 || die "pip check failed"
  freeze="$(pip_freeze "${tmp}/venv" | grep -viE '^(pip|setuptools|wheel)==' | LC_ALL=C sort -f)"
  {
    echo "# Full lock for apache-airflow==${VERSION} + providers, python ${PY_VER} (linux x86_64)."
    if [[ "${KEEP}" == "1" ]]; then how="--keep ${VERSION}  (pip freeze of a resolve, kept to the previous lock's other pins,"
    else how="${VERSION}  (pip freeze of a fresh resolve"; fi
    echo "# Generated by: hack/airflow/venv.sh --lock ${how} of:"
    echo "#   ${reqs[*]})"
    echo "# Installed by hack/airflow/venv.sh ${VERSION} with exact pins. Do not edit by hand."
    echo "${freeze}"
  } >"${REQ}"
  newpins=""
  for prov in ${AIRKUBE_AIRFLOW_PROVIDERS}; do
    line="$(grep -iE "^${prov}==" <<<"${freeze}" || true)"
    [[ -n "${line}" ]] || die "${prov} missing from the resolve"
    newpins+="${newpins:+ }${line}"
  done
  envf="${HERE}/versions.env"
  if grep -q "^${PINS_VAR}=" "${envf}"; then
    sed -i "s|^${PINS_VAR}=.*|${PINS_VAR}=\"${newpins}\"|" "${envf}"
  else
    echo "${PINS_VAR}=\"${newpins}\"" >>"${envf}"
  fi
  log "wrote ${REQ#"${REPO_ROOT}"/} and ${PINS_VAR} in versions.env: ${newpins}"
  exit 0
fi

# --- normal mode: ensure cached venv ------------------------------------------------------------------
[[ -f "${REQ}" ]] || die "no ${REQ#"${REPO_ROOT}"/}: run '$0 --lock ${VERSION}' first (then commit it)"
if [[ -n "${PINS}" ]]; then
  for pin in ${PINS}; do
    grep -qixF "${pin}" "${REQ}" || die "versions.env pin ${pin} is not in ${REQ##*/}: re-run '$0 --lock ${VERSION}'"
  done
fi
STAMP="$({ cat "${REQ}"; echo "python=${PY_VER} uv=${AIRKUBE_UV_VERSION:-} nouv=${AIRKUBE_AIRFLOW_NO_UV:-}"; } | sha256sum | cut -c1-12)"
VENV="${AF_CACHE}/${VERSION}-${STAMP}"

(
  flock 9
  if [[ -f "${VENV}/.airkube-complete" ]]; then
    log "cached: ${VENV}"
    exit 0
  fi
  start=$SECONDS
  log "creating ${VENV} (apache-airflow==${VERSION}, python ${PY_VER})"
  rm -rf "${VENV}"
  ensure_uv
  needs_mysql "${REQ}" && ensure_mysql_build_deps
  "${PY_EXE}" -m venv "${VENV}" >&2
  pip_install "${VENV}" -r "${REQ}"
  "${VENV}/bin/python" -m pip check >&2 || die "pip check failed in ${VENV}"
  # Smoke test: the executors we deploy must import (catches transitive breakage, e.g. celery 5.7 vs 2.11).
  home="$(mktemp -d)"
  env -i PATH="${VENV}/bin:/usr/bin:/bin" HOME="${home}" AIRFLOW_HOME="${home}" "${VENV}/bin/python" -W ignore -c '
import sys, airflow
import airflow.providers.celery.executors.celery_executor
import airflow.providers.cncf.kubernetes.executors.kubernetes_executor
print("smoke test ok: airflow", airflow.__version__, file=sys.stderr)' >&2 || die "smoke test failed in ${VENV}"
  rm -rf "${home}"
  cp "${REQ}" "${VENV}/.airkube-requirements.txt"
  date -u +%FT%TZ >"${VENV}/.airkube-complete"
  log "done in $((SECONDS - start))s: ${VENV}"
) 9>"${AF_CACHE}/.lock-${VERSION}"

echo "${VENV}"
