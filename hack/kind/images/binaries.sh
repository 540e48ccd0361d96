#!/usr/bin/env bash
# Runs in the chroot of an image made of static Go binaries (KEDA's operator and metrics API server, the
# StatsD exporter, Prometheus, the Prometheus Operator and its config reloader, kube-router, Traefik; via
# rootfs.sh): each binary it is given, in /bin, for any uid. /bin as in Prometheus' own images, where the
# Operator runs /bin/prometheus-config-reloader and mounts Prometheus' data at /prometheus.
set -o errexit -o nounset -o pipefail
for f in /airkube-inputs/*; do
  install -m 0755 "${f}" "/bin/$(basename "${f}")"
done
