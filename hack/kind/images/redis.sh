#!/usr/bin/env bash
# Runs in the chroot of the Redis image (hack/kind/images.sh, via rootfs.sh): Debian's redis-server (and
# redis-cli) as user redis uid/gid 999, with /data as a writable working directory.
set -o errexit -o nounset -o pipefail

# The user first, with the uid the official redis image uses, so the number is fixed; the postinst keeps it.
groupadd --system --gid 999 redis
useradd --system --uid 999 --gid 999 --home-dir /var/lib/redis --shell /usr/sbin/nologin --no-log-init redis

# No service starts in the chroot.
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
chmod 0755 /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y -qq --no-install-recommends redis-server >/dev/null

# The working directory (where a dump would go); group 0 too, for arbitrary uids that run with gid 0.
install -d -o redis -g 0 -m 0775 /data
redis-server --version
