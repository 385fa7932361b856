#!/usr/bin/env bash
# npm run smoke:image: the smoke Job's image, FROM scratch: node, the compiled smoke CLI (dist/smoke and
# the dist/lib modules it imports) and its two runtime packages (undici, zod), piped into `docker
# import` as sdwebui-smoke:<package version>, the default of the smokeImage setting. Push it to the
# registry your cluster pulls from and set smokeImage to that reference. Needs `npm run build` first.
# Skips the import when an image built from the same inputs exists (SMOKE_IMAGE_FORCE=1 rebuilds).
set -euo pipefail
cd "$(dirname "$0")/../.."
. smoke/image/node-rootfs.sh
image="${SMOKE_IMAGE:-sdwebui-smoke:$(node -p 'require("./package.json").version')}"
[ -f dist/smoke/cli.js ] || { echo "smoke-image: dist/smoke/cli.js is missing: run npm run build first" >&2; exit 1; }
build_id="$( (cat dist/smoke/*.js dist/lib/*.js "$0" smoke/image/node-rootfs.sh node_modules/undici/package.json node_modules/zod/package.json; stat -c '%n %s %Y' "$(readlink -f "$(command -v node)")") | sha256sum | cut -c1-16)"
if [ "${SMOKE_IMAGE_FORCE:-}" != 1 ] && docker image inspect "$image" --format '{{range .Config.Env}}{{println .}}{{end}}' 2>/dev/null | grep -qx "SMOKE_BUILD=$build_id"; then
  echo "smoke-image: $image is up to date (build $build_id)"
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
node_rootfs "$rootfs"
app="$rootfs/opt/sdwebui"
mkdir -p "$app/dist" "$app/node_modules"
cp -r dist/smoke dist/lib "$app/dist/"
cp -r node_modules/undici node_modules/zod "$app/node_modules/"
cp package.json "$app/"
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534::/tmp:/usr/sbin/nologin\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
tar -C "$rootfs" --numeric-owner --owner=0 --group=0 -cf "$work/rootfs.tar" .
docker import \
  --change "ENV PATH=/usr/bin" \
  --change "ENV SMOKE_BUILD=$build_id" \
  --change "WORKDIR /opt/sdwebui" \
  --change "USER 65534:65534" \
  --change 'ENTRYPOINT ["/usr/bin/node","/opt/sdwebui/dist/smoke/cli.js"]' \
  - "$image" <"$work/rootfs.tar" >/dev/null
echo "smoke-image: built $image (build $build_id, $(( $(docker image inspect "$image" --format '{{.Size}}') / 1000000 )) MB)"
