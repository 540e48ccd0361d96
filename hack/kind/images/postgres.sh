#!/usr/bin/env bash
# Runs in the chroot of the PostgreSQL image (hack/kind/images.sh, via rootfs.sh): Debian's postgresql-15 as
# user postgres uid/gid 999, no cluster of Debian's own, and the entrypoint /usr/local/bin/postgres-entrypoint.sh.
set -o errexit -o nounset -o pipefail
IN=/airkube-inputs

# The user first, with the uid the official postgres image uses, so the number is fixed (Debian's postinst
# would take the next free system uid, which depends on the package set) and keeps it.
groupadd --system --gid 999 postgres
useradd --system --uid 999 --gid 999 --home-dir /var/lib/postgresql --shell /bin/bash --no-log-init postgres

# No service starts in the chroot, and no `main` cluster: the entrypoint makes its own in PGDATA.
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
chmod 0755 /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y -qq --no-install-recommends postgresql-common >/dev/null
sed -ri 's/^#?\s*create_main_cluster\s*=.*/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf
apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null

# initdb copies this sample into every new cluster: listen on all addresses (the pod's IP).
sed -ri "s/^#?(listen_addresses)\s*=\s*\S+/\1 = '*'/" /usr/share/postgresql/15/postgresql.conf.sample
grep -q "^listen_addresses = '\*'" /usr/share/postgresql/15/postgresql.conf.sample

# The default data dir (an image path the pod may replace with a volume) and the socket directory, which is
# world-writable with the sticky bit (as in the official image) so that any uid can run the server.
install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/data
install -d -o postgres -g postgres -m 3777 /var/run/postgresql
install -m 0755 "${IN}/postgres-entrypoint.sh" /usr/local/bin/postgres-entrypoint.sh
/usr/lib/postgresql/15/bin/postgres --version
