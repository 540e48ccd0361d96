#!/usr/bin/env bash
# Runs in the chroot of the kind node's rootfs (hack/kind/node-image.sh): lays out what kind's own base image
# (images/base/Dockerfile in the kind module) does, with Debian's runc and our Go-built binaries.
set -o errexit -o nounset -o pipefail
IN=/airkube-inputs

# kind's static files: scripts and directories 0755, the rest 0644 (kind's Dockerfile uses COPY --chmod).
tar -C / --no-same-owner -xf "${IN}/kind-files.tar"
chmod 0755 /kind /kind/bin /kind/bin/* /usr/local/bin/entrypoint /usr/local/bin/clean-install
# Our binaries: the runtime, its CLI and shim, crictl into /usr/local/bin; kubelet, kubeadm, kubectl into
# /usr/bin (kind's kubelet unit expects them there); the CNI plugins into /opt/cni/bin.
tar -C / --no-same-owner -xf "${IN}/binaries.tar"

# As kind's Dockerfile: clean systemd's unit links, no kernel messages in journald, systemd as init.
find /lib/systemd/system/sysinit.target.wants/ -name "systemd-tmpfiles-setup.service" -delete
rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/* \
  /lib/systemd/system/local-fs.target.wants/* /lib/systemd/system/sockets.target.wants/*udev* \
  /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/basic.target.wants/*
echo "ReadKMsg=no" >>/etc/systemd/journald.conf
ln -sf /usr/lib/systemd/systemd /sbin/init
systemctl enable kubelet.service containerd.service undo-mount-hacks.service
systemctl mask systemd-binfmt.service
mkdir -p /etc/kubernetes/manifests

# The runtime's base OCI spec, as kind makes it: the product-files hook, no rlimits.
ctr oci spec | jq '.hooks.createContainer[.hooks.createContainer | length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' \
  | jq 'del(.process.rlimits)' >/etc/containerd/cri-base.json
# The pod sandbox image is our own pause (no registry).
sed -i "s|sandbox_image = .*|sandbox_image = \"$(cat "${IN}/pause-image")\"|" /etc/containerd/config.toml
# Where the host lacks a capability (CAP_SYS_RESOURCE, see engine.sh), containerd cannot lower a process's
# oom_score_adj; kind sets this only for rootless nodes.
if [[ -s "${IN}/drop-caps" ]]; then
  sed -i 's/restrict_oom_score_adj = false/restrict_oom_score_adj = true/' /etc/containerd/config.toml
fi
# No kindnetd (its module is not served): the CNI bridge plugin, one pod subnet per node. hack/kind writes
# each node's conflist from its podCIDR once the node exists, and routes the other nodes' subnets.
mkdir -p /etc/cni/net.d
install -m 0644 "${IN}/kind-version" /kind/version
containerd --version
runc --version | head -n 1
