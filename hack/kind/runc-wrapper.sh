#!/usr/bin/env bash
# runc, minus the capabilities listed in drop-caps beside this file (see engine.sh for why). It edits the
# OCI bundle's config.json before `create`/`run`, and the process file before `exec --process`, then runs runc.
set -o errexit -o nounset -o pipefail
DROP="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/drop-caps"
strip() { # strip <json file> <jq path of the process object>
  local f="$1" p="$2" filter="."
  while read -r cap; do
    [[ -n "${cap}" ]] && filter+=" | ${p}.capabilities |= (if . == null then . else with_entries(.value |= (if type == \"array\" then map(select(. != \"${cap}\")) else . end)) end)"
  done <"${DROP}"
  jq "${filter}" "$f" >"$f.airkube" && mv "$f.airkube" "$f"
}
cmd="" bundle="." process=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  a="${args[$i]}"
  case "$a" in
    create|run|exec) [[ -z "${cmd}" ]] && cmd="$a" ;;
    --bundle|-b) bundle="${args[$((i + 1))]}" ;;
    --bundle=*) bundle="${a#--bundle=}" ;;
    --process|-p) process="${args[$((i + 1))]}" ;;
    --process=*) process="${a#--process=}" ;;
  esac
done
case "${cmd}" in
  create|run) [[ -f "${bundle}/config.json" ]] && strip "${bundle}/config.json" .process ;;
  exec) [[ -n "${process}" && -f "${process}" ]] && strip "${process}" "" ;;
esac
exec runc "$@"
