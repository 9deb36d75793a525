#!/usr/bin/env bash
# Builds the edge agent's container image for one platform with podman and writes it as a
# single-platform docker-archive tar with uncompressed layers, the form RouterOS
# `/container/add file=` loads. Checks the tar before it reports success.
#
# Usage: agent/build-image.sh [options]
#   --platform amd64|arm64   target architecture, default this machine's. Another architecture
#                            runs the RUN steps under qemu-user-static (binfmt_misc).
#   --tag NAME               image name, default localhost/edge-agent:<version>-<platform>
#   --output FILE            tar to write, default edge-agent-<version>-<platform>.tar
#   --local-base             build from the stand-in base images that agent/make-local-base.sh
#                            makes for the platform, instead of node:20-bookworm-slim and
#                            debian:bookworm-slim from Docker Hub
#   --no-cache               rebuild every step
set -euo pipefail

repo_dir="$(cd "$(dirname "$0")/.." && pwd)"

fail() {
  echo "build-image: $1" >&2
  exit 1
}

host_platform() {
  case "$(uname -m)" in
    x86_64 | amd64) echo amd64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) fail "unsupported machine $(uname -m); pass --platform amd64 or --platform arm64" ;;
  esac
}

platform="$(host_platform)"
tag=''
output=''
local_base=no
build_options=()

while [ "$#" -gt 0 ]; do
  case "$1" in
    --platform) platform="${2:?--platform needs amd64 or arm64}"; shift 2 ;;
    --tag) tag="${2:?--tag needs a name}"; shift 2 ;;
    --output) output="${2:?--output needs a file name}"; shift 2 ;;
    --local-base) local_base=yes; shift ;;
    --no-cache) build_options+=(--no-cache); shift ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) fail "unknown option \"$1\"; run agent/build-image.sh --help" ;;
  esac
done

case "$platform" in
  amd64 | arm64) ;;
  *) fail "invalid --platform \"$platform\"; expected amd64 or arm64" ;;
esac
command -v podman >/dev/null || fail "podman not found; install the Debian package podman"

version="$(sed -n 's/^  "version": "\([^"]*\)".*/\1/p' "$repo_dir/package.json" | head -n 1)"
[ -n "$version" ] || fail "no version found in $repo_dir/package.json"
tag="${tag:-localhost/edge-agent:$version-$platform}"
output="${output:-edge-agent-$version-$platform.tar}"

if [ "$local_base" = yes ]; then
  build_options+=(
    --build-arg "NODE_IMAGE=localhost/edge-agent-base/node:20-bookworm-slim-$platform"
    --build-arg "RUNTIME_IMAGE=localhost/edge-agent-base/debian:bookworm-slim-$platform"
  )
fi

# --format docker keeps HEALTHCHECK, which the OCI image format has no field for.
echo "build-image: building $tag for linux/$platform"
podman build --format docker --platform "linux/$platform" "${build_options[@]}" \
  --file "$repo_dir/agent/Containerfile" --tag "$tag" "$repo_dir"

image_platform="$(podman image inspect --format '{{.Os}}/{{.Architecture}}' "$tag")"
[ "$image_platform" = "linux/$platform" ] \
  || fail "built image $tag is $image_platform, expected linux/$platform"

# podman writes the layers of a docker-archive uncompressed. It refuses to write over an
# existing archive ("doesn't support modifying existing images"), so an old one goes first.
rm -f "$output"
podman save --format docker-archive --output "$output" "$tag"

"$repo_dir/agent/check-image-archive.sh" "$output" "$platform"
echo "build-image: wrote $output ($(du -h "$output" | cut -f1), linux/$platform)"
