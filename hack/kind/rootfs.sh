#!/usr/bin/env bash
# Builds a Docker image from a Debian rootfs, with no registry: debootstrap (cached as a tarball), then
# packages and a setup script run in a chroot, then `docker import`. Cached by a hash of everything that
# goes in, so a warm call only checks that the tag exists. Prints the image reference last.
#
#   rootfs.sh NAME "PACKAGES" SETUP_SCRIPT|- [--change 'DOCKERFILE LINE']... [--input FILE]...
#
# SETUP_SCRIPT runs with bash inside the chroot (with /proc and the host's resolv.conf), "-" for none.
# Each --input FILE is hashed too (files the setup script reads from AIRKUBE_ROOTFS_INPUTS, which is
# mounted at /airkube-inputs during setup). Needs root (chroot, mounts), debootstrap and a Docker engine.
set -o errexit -o nounset -o pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${AIRKUBE_CACHE:-${HOME}/.cache/airkube}"
SUITE=bookworm
MIRROR="${AIRKUBE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
[[ $# -ge 3 ]] || { sed -n 6p "${BASH_SOURCE[0]}" >&2; exit 2; }
name="$1" packages="$2" setup="$3"; shift 3
changes=() inputs=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --change) changes+=(--change "$2"); shift 2 ;;
    --input) inputs+=("$2"); shift 2 ;;
    *) echo "rootfs.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

# Bump RECIPE when this script's way of building changes.
RECIPE=1
hash="$({ echo "${RECIPE} ${SUITE} ${packages}"; printf '%s\n' "${changes[@]+"${changes[@]}"}";
  [[ "${setup}" == - ]] || cat "${setup}"; for f in "${inputs[@]+"${inputs[@]}"}"; do echo "$(basename "$f")"; cat "$f"; done; } | sha256sum | cut -c1-12)"
image="airkube.local/${name}:${hash}"
if docker image inspect "${image}" >/dev/null 2>&1; then echo "${image}"; exit 0; fi

command -v debootstrap >/dev/null 2>&1 || "${HERE}/../tools/apt-install.sh" --with-recommends debootstrap
mkdir -p "${CACHE}/rootfs"
exec 8>"${CACHE}/rootfs/.lock"; flock 8   # one debootstrap/chroot build at a time

# The minimal Debian every image starts from, made once.
base="${CACHE}/rootfs/${SUITE}-minbase-${RECIPE}.tar"
if [[ ! -f "${base}" ]]; then
  start=${SECONDS}
  tmp="$(mktemp -d "${CACHE}/rootfs/.debootstrap.XXXXXX")"
  echo "debootstrap ${SUITE} (minbase) into ${tmp}" >&2
  debootstrap --variant=minbase "${SUITE}" "${tmp}" "${MIRROR}" >"${tmp}.log" 2>&1 || { tail -n 30 "${tmp}.log" >&2; exit 1; }
  tar -C "${tmp}" -cf "${base}.tmp" . && mv "${base}.tmp" "${base}"
  rm -rf "${tmp}" "${tmp}.log"
  echo "FIGURE debootstrap ${SUITE} minbase: $((SECONDS - start)) s" >&2
fi

start=${SECONDS}
root="$(mktemp -d "${CACHE}/rootfs/.${name}.XXXXXX")"
cleanup() {
  for m in airkube-inputs dev/pts dev proc; do mountpoint -q "${root}/${m}" && umount -l "${root}/${m}"; done
  rm -rf "${root}"
}
trap cleanup EXIT
tar -C "${root}" -xf "${base}"
cp /etc/resolv.conf "${root}/etc/resolv.conf"
mount -t proc proc "${root}/proc"
mount --bind /dev "${root}/dev"
mount --bind /dev/pts "${root}/dev/pts"
if (( ${#inputs[@]} )); then
  mkdir -p "${root}/airkube-inputs"
  for f in "${inputs[@]}"; do cp -a "$f" "${root}/airkube-inputs/"; done
fi
run() { chroot "${root}" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root DEBIAN_FRONTEND=noninteractive "$@"; }
if [[ -n "${packages}" ]]; then
  echo "${name}: apt-get install ${packages}" >&2
  # --force-confold: keep packaged config files without asking (containerd's would otherwise prompt).
  run sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold ${packages}" >&2
fi
if [[ "${setup}" != - ]]; then
  cp "${setup}" "${root}/airkube-setup.sh"
  run bash /airkube-setup.sh >&2
  rm -f "${root}/airkube-setup.sh"
fi
run sh -c 'apt-get clean; rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /tmp/* /root/.cache' >&2
for m in airkube-inputs dev/pts dev proc; do mountpoint -q "${root}/${m}" && umount -l "${root}/${m}"; done
rm -rf "${root}/airkube-inputs"
: >"${root}/etc/resolv.conf"   # the runtime writes its own
tar -C "${root}" --numeric-owner -cf - . | docker import "${changes[@]+"${changes[@]}"}" - "${image}" >/dev/null
echo "FIGURE image ${name} built: $((SECONDS - start)) s" >&2
echo "${image}"
