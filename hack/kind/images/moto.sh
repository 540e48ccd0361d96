#!/usr/bin/env bash
# Runs in the chroot of the S3 stand-in image (hack/kind/images.sh, via rootfs.sh): moto's S3 server
# (`python3 -m moto.server`), a real S3 protocol server from PyPI, in a virtualenv at /opt/moto holding
# exactly /airkube-inputs/moto-requirements.txt, installed by /airkube-inputs/uv with Debian's python3. It
# runs as uid 999, keeping objects in memory.
set -o errexit -o nounset -o pipefail
IN=/airkube-inputs

groupadd --system --gid 999 moto
useradd --system --uid 999 --gid 999 --home-dir /tmp --shell /usr/sbin/nologin --no-log-init moto

export UV_CACHE_DIR=/tmp/uv-cache UV_PYTHON_DOWNLOADS=never UV_LINK_MODE=copy UV_NO_PROGRESS=1
[[ ! -s "${IN}/build-ca-certificates.crt" ]] || export SSL_CERT_FILE="${IN}/build-ca-certificates.crt"
"${IN}/uv" venv --quiet --python /usr/bin/python3 /opt/moto
"${IN}/uv" pip install --python /opt/moto/bin/python --no-deps --compile-bytecode -r "${IN}/moto-requirements.txt"
"${IN}/uv" pip check --python /opt/moto/bin/python
rm -rf "${UV_CACHE_DIR}" /tmp/tmp.*
/opt/moto/bin/python -c 'import moto, moto.server, boto3; print("moto", moto.__version__, "imports ok")'
