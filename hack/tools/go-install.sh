#!/usr/bin/env bash
# Builds a Go command from its module (through the module proxy), once per version, into the cache, and
# prints the binary's path; the scripts beside this one name what to build and at which pinned version.
#
#   go-install.sh NAME BINARY PACKAGE@VERSION [--module MODULE] [GO BUILD FLAG...]
#
# --module MODULE builds inside a copy of that module's own source (PACKAGE is in it), as its main module: for
# a module whose go.mod has replace directives, which `go install PACKAGE@VERSION` refuses.
# The binary is ${AIRKUBE_CACHE}/bin/NAME-VERSION/BINARY (the package's command under that name). It is built
# outside any module (the repo's go.mod plays no part), static (CGO off) and with -trimpath. One build of a
# NAME at a time: a concurrent caller waits and then finds the binary.
set -o errexit -o nounset -o pipefail

[[ $# -ge 3 ]] || { sed -n 5p "${BASH_SOURCE[0]}" >&2; exit 2; }
name="$1" binary="$2" target="$3" module=""
shift 3
if [[ "${1:-}" == --module ]]; then module="$2"; shift 2; fi
CACHE="${AIRKUBE_CACHE:-${HOME}/.cache/airkube}"
DIR="${CACHE}/bin/${name}-${target##*@}"
BIN="${DIR}/${binary}"

mkdir -p "${CACHE}/bin"
(
  flock 9
  if [[ ! -x "${BIN}" ]]; then
    echo "go-install.sh: building ${target}" >&2
    start=${SECONDS}
    tmp="$(mktemp -d "${CACHE}/bin/.${name}.XXXXXX")"
    trap 'rm -rf "${tmp}"' EXIT
    if [[ -n "${module}" ]]; then
      src="$("$(dirname "${BASH_SOURCE[0]}")/moddir.sh" "${module}@${target##*@}")"
      cp -r "${src}" "${tmp}/src"
      chmod -R u+w "${tmp}/src"
      # A replace onto a folder of the module that is a module of its own is not in the module's zip: that
      # module comes from the proxy at the required version instead.
      while read -r old new; do
        [[ "${new}" != ./* && "${new}" != ../* ]] || [[ -d "${tmp}/src/${new}" ]] || (cd "${tmp}/src" && go mod edit -dropreplace="${old}")
      done < <(cd "${tmp}/src" && go mod edit -print | awk '/^replace \($/ {b = 1; next} b && /^\)$/ {b = 0; next}
        b || /^replace / {sub(/^replace /, ""); for (i = 2; i <= NF; i++) if ($i == "=>") {print (i == 3 ? $1 "@" $2 : $1), $(i + 1)}}')
      pkg="${target%@*}"
      (cd "${tmp}/src" && CGO_ENABLED=0 GOWORK=off GOFLAGS="-mod=mod -trimpath" go build "$@" -o "${tmp}/bin/${binary}" "./${pkg#"${module}"/}")
    else
      (cd "${tmp}" && CGO_ENABLED=0 GOWORK=off GOBIN="${tmp}/bin" GOFLAGS="-mod=mod -trimpath" go install "$@" "${target}")
      mv "${tmp}/bin/$(basename "${target%@*}")" "${tmp}/bin/${binary}" 2>/dev/null || true
    fi
    rm -rf "${DIR}"
    mkdir -p "${DIR}"
    mv "${tmp}/bin/${binary}" "${BIN}"
    echo "FIGURE ${name} ${target##*@} built from its Go module: $((SECONDS - start)) s" >&2
  fi
) 9>"${CACHE}/bin/.${name}.lock"
echo "${BIN}"
