#!/usr/bin/env bash
# Checks that a tar is what RouterOS `/container/add file=` loads: a docker-archive with
# manifest.json, exactly one image, every layer an uncompressed tar, and, when PLATFORM is
# given, an image config for linux/PLATFORM. Prints one line and exits 0 when all hold.
#
# Usage: agent/check-image-archive.sh ARCHIVE [PLATFORM]
set -euo pipefail

archive="${1:?usage: agent/check-image-archive.sh ARCHIVE [PLATFORM]}"
platform="${2:-}"

fail() {
  echo "check-image-archive: $archive: $1" >&2
  exit 1
}

[ -f "$archive" ] || fail "file not found"
entries="$(tar -tf "$archive" 2>/dev/null)" || fail "not a tar archive"
grep -qx 'manifest.json' <<<"$entries" || fail "no manifest.json; expected a docker-archive"

manifest="$(tar -xOf "$archive" manifest.json)"
[ "$(grep -o '"Config"' <<<"$manifest" | wc -l)" -eq 1 ] \
  || fail "manifest.json does not list exactly one image; RouterOS loads one platform only"

# manifest.json is one line of JSON: split it at its delimiters to read the quoted names.
names="$(tr ',[]{}' '\n\n\n\n\n' <<<"$manifest")"
config="$(sed -n 's/^"Config": *"\([^"]*\)"$/\1/p' <<<"$names")"
layers="$(sed -n 's/^"Layers": *//; s/^"\([^"]*\.tar\)"$/\1/p' <<<"$names")"
[ -n "$layers" ] || fail "manifest.json lists no layers"

layer_count=0
for layer in $layers; do
  grep -qxF "$layer" <<<"$entries" || fail "layer $layer is listed but not in the archive"

  # head stops reading after two bytes, so tar may end on SIGPIPE: that status is no failure.
  magic="$({ tar -xOf "$archive" "$layer" || true; } | head -c 2 | od -An -tx1 | tr -d ' \n')"
  [ "$magic" != 1f8b ] || fail "layer $layer is gzip-compressed; RouterOS needs uncompressed layers"
  layer_count=$((layer_count + 1))
done

if [ -n "$platform" ]; then
  image_config="$(tar -xOf "$archive" "$config")" || fail "image config $config is missing"
  grep -q "\"architecture\": *\"$platform\"" <<<"$image_config" \
    || fail "image config is not for $platform"
  grep -q '"os": *"linux"' <<<"$image_config" || fail "image config is not for linux"
fi

echo "check-image-archive: $archive: one image${platform:+ for linux/$platform}," \
  "$layer_count uncompressed layers"
