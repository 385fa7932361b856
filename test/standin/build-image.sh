#!/usr/bin/env bash
# Build sd-webui-standin:dev FROM scratch without a registry: the host's node binary (stripped), the
# libraries ldd lists, the loader, the compiled stand-in and a python3 healthcheck shim, piped into
# `docker import`. Mirrors the universonic profile: WORKDIR /app/stable-diffusion-webui (data root,
# outputs/ and models/Stable-diffusion/ owned 1000:1000), USER 1000:1000, ENTRYPOINT with
# --update-check --xformers --listen --port 8080 (docker args are appended), TZ=UTC.
# Skips the import when an image built from the same inputs exists (STANDIN_FORCE=1 rebuilds).
set -euo pipefail
cd "$(dirname "$0")/../.."
. smoke/image/node-rootfs.sh

image="${STANDIN_IMAGE:-sd-webui-standin:dev}"
root_dir=/app/stable-diffusion-webui
node_bin="$(readlink -f "$(command -v node)")"
started=$(date +%s%N)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# 1. Same inputs (sources, this script, node binary identity) → same image: nothing to do.
build_id="$( (cat test/standin/*.ts "$0" smoke/image/node-rootfs.sh; stat -c '%n %s %Y' "$node_bin") | sha256sum | cut -c1-16)"
if [ "${STANDIN_FORCE:-}" != 1 ] && docker image inspect "$image" --format '{{range .Config.Env}}{{println .}}{{end}}' 2>/dev/null | grep -qx "STANDIN_BUILD=$build_id"; then
  echo "standin-image: $image is up to date (build $build_id)"
  exit 0
fi

# 2. Transpile to CommonJS with TypeScript's transpileModule (no type check: `npm run lint` does that),
#    which takes a fraction of a second where a full tsc run takes several.
mkdir -p "$work/js"
node -e '
  const ts = require("typescript"), fs = require("fs"), path = require("path");
  const [src, out] = process.argv.slice(1);
  for (const f of fs.readdirSync(src).filter((n) => n.endsWith(".ts") && !n.endsWith(".test.ts"))) {
    const r = ts.transpileModule(fs.readFileSync(path.join(src, f), "utf8"), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true }, fileName: f });
    fs.writeFileSync(path.join(out, f.replace(/\.ts$/, ".js")), r.outputText);
  }' test/standin "$work/js"

# 3. Root filesystem.
rootfs="$work/rootfs"
node_rootfs "$rootfs"
mkdir -p "$rootfs/opt/standin" "$rootfs$root_dir/outputs" "$rootfs$root_dir/models/Stable-diffusion"
cp "$work"/js/*.js "$rootfs/opt/standin/"
rm "$rootfs/opt/standin/python3-shim.js"
install -m 0755 "$work/js/python3-shim.js" "$rootfs/usr/bin/python3"
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nsduser:x:1000:1000::%s:/usr/sbin/nologin\n' "$root_dir" >"$rootfs/etc/passwd"
printf 'root:x:0:\nsduser:x:1000:\n' >"$rootfs/etc/group"

# 4. Tar (system files root-owned, the data root 1000:1000) and import.
tarball="$work/rootfs.tar"
tar -C "$rootfs" --numeric-owner --owner=0 --group=0 --exclude="./${root_dir#/}" -cf "$tarball" .
tar -C "$rootfs" --numeric-owner --owner=1000 --group=1000 -rf "$tarball" "./${root_dir#/}"
docker import \
  --change "ENV PATH=/usr/bin" \
  --change "ENV TZ=UTC" \
  --change "ENV STANDIN_BUILD=$build_id" \
  --change "WORKDIR $root_dir" \
  --change "USER 1000:1000" \
  --change "EXPOSE 8080" \
  --change 'ENTRYPOINT ["/usr/bin/node","/opt/standin/server.js","--update-check","--xformers","--listen","--port","8080"]' \
  - "$image" <"$tarball" >/dev/null

size=$(docker image inspect "$image" --format '{{.Size}}')
echo "standin-image: built $image (build $build_id, $((size / 1000000)) MB) in $(( ($(date +%s%N) - started) / 1000000 )) ms"
