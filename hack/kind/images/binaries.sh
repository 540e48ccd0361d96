#!/usr/bin/env bash
# Runs in the chroot of an image made of static Go binaries (KEDA's operator and metrics API server, the
# StatsD exporter, Prometheus, kube-router, Traefik; via rootfs.sh): each binary it is given, at / (KEDA's
# manifests run /keda and /keda-adapter, as in KEDA's own images), for any uid.
set -o errexit -o nounset -o pipefail
for f in /airkube-inputs/*; do
  install -m 0755 "${f}" "/$(basename "${f}")"
done
