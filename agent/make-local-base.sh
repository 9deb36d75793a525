#!/usr/bin/env bash
# Builds local stand-ins for the two base images of agent/Containerfile, for a machine that
# reaches Debian's package mirror but no image registry:
#   localhost/edge-agent-base/debian:bookworm-slim   a debootstrap minbase root file system
#   localhost/edge-agent-base/node:20-bookworm-slim  the same plus this machine's node and npm,
#                                                    at the paths the official node image uses
# Then: agent/build-image.sh --local-base
#
# Usage: agent/make-local-base.sh [WORK_DIR]
#   WORK_DIR  where the root file system is built, default /var/tmp/edge-agent-base
# Needs root, debootstrap and podman. Builds for this machine's architecture only, because the
# node binary is this machine's.
set -euo pipefail

work_dir="${1:-/var/tmp/edge-agent-base}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
debian_image=localhost/edge-agent-base/debian:bookworm-slim
node_image=localhost/edge-agent-base/node:20-bookworm-slim

fail() {
  echo "make-local-base: $1" >&2
  exit 1
}

[ "$(id -u)" -eq 0 ] || fail "run as root: debootstrap needs it"
for tool in debootstrap podman node; do
  command -v "$tool" >/dev/null || fail "$tool not found; install it first"
done

node_path="$(readlink -f "$(command -v node)")"
node_version="$(node --version)"
case "$node_version" in
  v20.*) ;;
  *) fail "node $node_version found; the image is for Node.js 20 (>= 20.19)" ;;
esac
npm_dir="$(npm root --global)/npm"
[ -f "$npm_dir/bin/npm-cli.js" ] || fail "npm not found at $npm_dir"

rootfs="$work_dir/rootfs"
if [ ! -x "$rootfs/usr/bin/apt-get" ]; then
  rm -rf "$rootfs"
  mkdir -p "$work_dir"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror"
fi

# The official slim image drops documentation, manuals and package lists in the same way.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
  "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* \
  "$rootfs"/usr/share/info/* "$rootfs"/var/log/*.log

echo "make-local-base: importing $debian_image"
tar -C "$rootfs" --numeric-owner -c . \
  | podman import --change 'CMD ["bash"]' - "$debian_image" >/dev/null

# The node image adds /usr/local/bin/node and npm under /usr/local/lib/node_modules, as the
# official image does, so the Containerfile finds them where it looks for them.
node_layer="$work_dir/node-layer"
rm -rf "$node_layer"
mkdir -p "$node_layer/usr/local/bin" "$node_layer/usr/local/lib/node_modules"
cp "$node_path" "$node_layer/usr/local/bin/node"
cp -a "$npm_dir" "$node_layer/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$node_layer/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$node_layer/usr/local/bin/npx"

# node-gyp builds better-sqlite3 against these headers instead of downloading them, and npm
# trusts the certificates this machine trusts (which may include a proxy's).
node_headers="$(dirname "$(dirname "$node_path")")/include/node"
[ -f "$node_headers/node_version.h" ] || fail "Node.js headers not found at $node_headers"
mkdir -p "$node_layer/usr/local/include" "$node_layer/usr/local/etc"
cp -a "$node_headers" "$node_layer/usr/local/include/node"
cp /etc/ssl/certs/ca-certificates.crt "$node_layer/usr/local/etc/ca-certificates.crt"

echo "make-local-base: importing $node_image (node $node_version)"
container="$(podman create "$debian_image" true)"
trap 'podman rm --force "$container" >/dev/null' EXIT
podman cp "$node_layer/usr/local/." "$container:/usr/local/"
podman commit --quiet --change 'CMD ["node"]' \
  --change "ENV NODE_VERSION=${node_version#v}" \
  --change 'ENV npm_config_nodedir=/usr/local' \
  --change 'ENV npm_config_cafile=/usr/local/etc/ca-certificates.crt' \
  "$container" "$node_image" >/dev/null

podman run --rm "$node_image" node --version
echo "make-local-base: done; build with agent/build-image.sh --local-base"
