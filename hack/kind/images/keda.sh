#!/usr/bin/env bash
# Runs in the chroot of a KEDA image (hack/kind/keda.sh, via rootfs.sh): the one static binary it is given,
# at / as in KEDA's own images (the manifests run /keda and /keda-adapter), for any uid.
set -o errexit -o nounset -o pipefail
for f in /airkube-inputs/*; do
  install -m 0755 "${f}" "/$(basename "${f}")"
done
