#!/usr/bin/env bash
# Deletes the local kwok cluster made by up.sh (processes, ports, workdir); succeeds if none exists.
set -o errexit -o nounset -o pipefail

CACHE="${AIRKUBE_CACHE:-${HOME}/.cache/airkube}"
NAME="${AIRKUBE_CLUSTER:-airkube}"
export KWOK_WORKDIR="${CACHE}/kwok"
DIR="${KWOK_WORKDIR}/clusters/${NAME}"

[[ -d "${DIR}" ]] || { echo "cluster ${NAME} not found" >&2; exit 0; }
mkdir -p "${KWOK_WORKDIR}"
exec 9>"${KWOK_WORKDIR}/${NAME}.lock"   # shared with up.sh; go ahead anyway if a stray process holds it
flock -w 60 9 || echo "warning: ${KWOK_WORKDIR}/${NAME}.lock is held; deleting anyway" >&2

# Any cached kwokctl can delete the cluster; don't call build.sh here (a pin bump would mean a long rebuild).
kwokctl="$(find "${CACHE}/bin" -mindepth 2 -maxdepth 2 -name kwokctl -type f 2>/dev/null | head -n 1 || true)"
if [[ -n "${kwokctl}" ]]; then
  # --kubeconfig names the cluster's own file so kwokctl leaves ~/.kube/config alone ("" is an error here).
  "${kwokctl}" delete cluster --name "${NAME}" --kubeconfig "${DIR}/kubeconfig.yaml" >&2 || true
fi
# Belt and braces: stop any process still running from this cluster's dir (their command lines all name it),
# politely first (kube-apiserver can take a while to shut down), then with SIGKILL, so no port stays bound.
for sig in TERM TERM TERM TERM TERM TERM TERM TERM TERM TERM KILL; do
  pids="$(pgrep -f -- "${DIR}/" || true)"
  [[ -n "${pids}" ]] || break
  echo "stopping leftover processes (SIG${sig}): ${pids//$'\n'/ }" >&2
  # shellcheck disable=SC2086
  kill -s "${sig}" ${pids} 2>/dev/null || true
  sleep 2
done
rm -rf "${DIR}"
echo "cluster ${NAME} deleted" >&2
