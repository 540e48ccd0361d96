#!/usr/bin/env bash
# Prints the folder of a Go module's source, downloading its zip first: `go mod download` fetches the
# source, where `go list -m` may fetch only the .mod and .info files and leave .Dir empty on a cold
# module cache (a fresh machine). MODULE without a version is the one the module of the caller's folder
# requires; MODULE@VERSION is looked up outside any module, so no go.mod or go.work plays a part.
#
#   moddir.sh MODULE[@VERSION]
set -o errexit -o nounset -o pipefail
[[ $# -eq 1 ]] || { sed -n 7p "${BASH_SOURCE[0]}" >&2; exit 2; }
[[ "$1" != *@* ]] || { cd /; export GOWORK=off; }
dir="$(go mod download -json "$1" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
[[ -n "${dir}" && -d "${dir}" ]] || { echo "moddir.sh: go mod download $1 gave no source folder" >&2; exit 1; }
echo "${dir}"
