#!/usr/bin/env bash
# Deletes the local kwok cluster made by up.sh (processes, ports, workdir); succeeds if none exists.
set -o errexit -o nounset -o pipefail

CACHE="${AIRKUBE_CACHE:-${HOME}/.cache/airkube}"
NAME="${AIRKUBE_CLUSTER:-airkube}"
export KWOK_WORKDIR="${CACHE}/kwok"
DIR="${KWOK_WORKDIR}/clusters/${NAME}"

[[ -d "${DIR}" ]] || { echo "cluster ${NAME} not found" >&2; exit 0; }
mkdir -p "${KWOK_WORKDIR}"
exec 9>"${KWOK_WORKDIR}/${NAME}.lock"   # shared with up.sh
flock 9

# Any cached kwokctl can delete the cluster; don't call build.sh here (a pin bump would mean a long rebuild).
kwokctl="$(find "${CACHE}/bin" -mindepth 2 -maxdepth 2 -name kwokctl -type f 2>/dev/null | head -n 1 || true)"
if [[ -n "${kwokctl}" ]]; then
  "${kwokctl}" delete cluster --name "${NAME}" --kubeconfig "" >&2 || true
fi
# Belt and braces: stop any process still running from this cluster's dir (their command lines all name it).
for pid in $(pgrep -f -- "${DIR}/" || true); do
  if kill "${pid}" 2>/dev/null; then echo "killed leftover process ${pid}" >&2; fi
done
rm -rf "${DIR}"
echo "cluster ${NAME} deleted" >&2
