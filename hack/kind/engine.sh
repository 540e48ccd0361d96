#!/usr/bin/env bash
# Makes a Docker engine available for kind: uses a running one, else installs (Debian's docker.io, as root)
# and starts dockerd itself. `engine.sh stop` stops only a dockerd this script started.
#
# Where this machine's capability bounding set lacks a capability Docker grants to --privileged containers
# (seen: CAP_SYS_RESOURCE on some VMs), runc refuses such containers ("unable to apply caps"). Then dockerd
# gets runc-wrapper.sh as its default runtime, which drops exactly the missing capabilities. A normal host
# needs none of this.
#
# A separate engine (make test-cold): DOCKER_HOST=unix://SOCKET with AIRKUBE_DOCKER_ROOT and
# AIRKUBE_DOCKER_EXEC_ROOT starts dockerd on that socket with its data and state there.
set -o errexit -o nounset -o pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${AIRKUBE_CACHE:-${HOME}/.cache/airkube}"
STATE="${CACHE}/engine"
PIDFILE="${STATE}/dockerd.pid"
EXEC_ROOT="${AIRKUBE_DOCKER_EXEC_ROOT:-/var/run/docker}"
mkdir -p "${STATE}"

if [[ "${1:-}" == "stop" ]]; then
  [[ -f "${PIDFILE}" ]] || exit 0
  pid="$(cat "${PIDFILE}")"
  if kill -0 "${pid}" 2>/dev/null; then
    # Containers first, so none is left to the next dockerd; then the daemon and its containerd.
    ids="$(docker ps -aq 2>/dev/null || true)"
    [[ -z "${ids}" ]] || docker rm -f -v ${ids} >/dev/null 2>&1 || true
    kill "${pid}"
    for _ in $(seq 60); do kill -0 "${pid}" 2>/dev/null || break; sleep 0.5; done
  fi
  rm -f "${PIDFILE}"
  # dockerd's own containerd exits with it; a stray one (killed dockerd) would keep its socket busy.
  pkill -f "^containerd --config ${EXEC_ROOT}/containerd/containerd.toml" 2>/dev/null || true
  echo "docker engine stopped" >&2
  exit 0
fi

if docker info >/dev/null 2>&1; then
  exit 0   # a running engine (a user's Docker, or ours from an earlier call)
fi
if ! command -v dockerd >/dev/null 2>&1; then
  [[ "$(id -u)" == 0 ]] || { echo "no Docker engine runs and dockerd is not installed; install Docker (or run as root to let this script apt-get docker.io)" >&2; exit 1; }
  echo "installing docker.io from Debian" >&2
  "${HERE}/../tools/apt-install.sh" --with-recommends docker.io jq
fi
command -v jq >/dev/null 2>&1 || "${HERE}/../tools/apt-install.sh" jq

# Capabilities Docker's --privileged asks for that this machine's bounding set lacks.
bnd=$((16#$(awk '/^CapBnd/ {print $2}' /proc/self/status)))
missing=()
last="$(cat /proc/sys/kernel/cap_last_cap)"
names=(CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE
  NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE
  SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL
  SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE)
for i in $(seq 0 "${last}"); do
  (( (bnd >> i) & 1 )) || missing+=("CAP_${names[$i]}")
done

args=(--pidfile "${PIDFILE}" --data-root "${AIRKUBE_DOCKER_ROOT:-/var/lib/docker}" --exec-root "${EXEC_ROOT}")
[[ "${DOCKER_HOST:-}" != unix://* ]] || args+=(-H "${DOCKER_HOST}")
if (( ${#missing[@]} )); then
  echo "this machine's capability bounding set lacks ${missing[*]}: runc will drop them from privileged containers" >&2
  printf '%s\n' "${missing[@]}" >"${STATE}/drop-caps"
  install -m 0755 "${HERE}/runc-wrapper.sh" "${STATE}/runc-wrapper"
  args+=(--add-runtime "airkube-runc=${STATE}/runc-wrapper" --default-runtime airkube-runc)
fi
echo "starting dockerd (log: ${STATE}/dockerd.log)" >&2
# setsid + closed fds: the daemon outlives this script and holds none of its caller's pipes or locks.
setsid dockerd "${args[@]}" >"${STATE}/dockerd.log" 2>&1 </dev/null 9>&- &
for _ in $(seq 120); do
  docker info >/dev/null 2>&1 && { echo "docker engine ready" >&2; exit 0; }
  sleep 0.5
done
echo "dockerd did not start; see ${STATE}/dockerd.log:" >&2
tail -n 20 "${STATE}/dockerd.log" >&2
exit 1
