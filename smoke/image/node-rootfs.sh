# shellcheck shell=bash
# Sourced by the image builds (the smoke Job's image, the test stand-in): node_rootfs DIR puts this
# machine's node binary (stripped), the libraries ldd lists and the loader into DIR, so an image built
# FROM scratch runs Node.js with no base image and no registry.
node_rootfs() {
  local rootfs="$1" node_bin
  node_bin="$(readlink -f "$(command -v node)")"
  mkdir -p "$rootfs/usr/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/lib64"
  chmod 1777 "$rootfs/tmp"
  if command -v strip >/dev/null; then strip --strip-all -o "$rootfs/usr/bin/node" "$node_bin"; else cp "$node_bin" "$rootfs/usr/bin/node"; fi
  ldd "$node_bin" | awk '/=> \//{print $3} /^[[:space:]]*\/lib/{print $1}' | while read -r lib; do
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L "$lib" "$rootfs$lib"
  done
}
