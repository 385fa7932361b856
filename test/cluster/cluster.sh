#!/usr/bin/env bash
# A single-node Kubernetes cluster for the fleet tests, built on this machine from Go modules and
# Debian's packages: etcd (Debian), kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
# kube-proxy and kubectl (k8s.io/kubernetes through test/cluster/go), containerd and runc (Debian),
# CNI bridge/host-local/loopback/portmap (Debian), and a fake device plugin advertising GPUS devices of
# nvidia.com/gpu. The node's address is 10.222.0.1 on loopback; pods get 10.224.0.0/24,
# Services 10.223.0.0/24. Nothing listens beyond that address and loopback.
#
#   cluster.sh build   build the binaries into the cache (skipped when they match the sources)
#   cluster.sh up      build, then start everything and wait for the node to be Ready (idempotent)
#   cluster.sh load IMAGE...   copy Docker images into the node's containerd
#   cluster.sh down    stop everything and remove the cluster's state (pods, volumes' host folders stay)
#   cluster.sh env     print KUBECONFIG=... and KUBE_BIN=... (kubectl's folder) for a shell
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
KUBE_VERSION=v1.33.13
GPUS="${SDWEBUI_CLUSTER_GPUS:-2}"
cache="${SDWEBUI_TOOLCHAIN_DIR:-$HOME/.cache/sdwebui-toolchain}"
bin="$cache/kube-$KUBE_VERSION/bin"
state=/var/lib/sdwebui-cluster
run=/run/sdwebui-cluster
pki="$state/pki"
node_ip=10.222.0.1
node_name=sdwebui-node
pod_cidr=10.224.0.0/24
service_cidr=10.223.0.0/24
started=$(date +%s)
say() { echo "cluster [$(( $(date +%s) - started ))s] $*" >&2; }
export PATH="$bin:$PATH"
export KUBECONFIG="$pki/admin.kubeconfig"

# Waits for a condition with progress every 10 s: what, elapsed, limit; on timeout shows a log's tail.
wait_for() {
  local what="$1" limit="$2" log="$3"; shift 3
  local t0; t0=$(date +%s)
  until "$@" >/dev/null 2>&1; do
    local e=$(( $(date +%s) - t0 ))
    if [ "$e" -ge "$limit" ]; then say "$what: not ready after ${limit}s; last lines of $log:"; tail -25 "$log" >&2; exit 1; fi
    [ $(( e % 10 )) -eq 0 ] && [ "$e" -gt 0 ] && say "$what: waiting, ${e}s elapsed (limit ${limit}s)"
    sleep 1
  done
}

build() {
  local stamp="$bin/.build-id" id
  id="$( (cat "$here"/go/go.mod "$here"/go/go.sum "$here"/go/fake-gpu-plugin/*.go; go version) | sha256sum | cut -c1-16)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$id" ]; then say "binaries up to date in $bin"; return; fi
  mkdir -p "$bin"
  local ld="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1"
  ld="$ld -X k8s.io/component-base/version.gitMinor=$(echo "$KUBE_VERSION" | cut -d. -f2) -X k8s.io/component-base/version.gitTreeState=clean"
  ld="$ld -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION"
  say "building Kubernetes $KUBE_VERSION (apiserver, controller-manager, scheduler, kubelet, kube-proxy, kubectl) and the fake GPU plugin: ~25 min cold on 2 cores"
  local t0; t0=$(date +%s)
  ( cd "$here/go" && GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build" GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0 \
      go build -trimpath -ldflags "$ld" -o "$bin/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
      k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy k8s.io/kubernetes/cmd/kubectl ./fake-gpu-plugin ) >"$cache/kube-build.log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 30
    kill -0 "$pid" 2>/dev/null && say "compiling: $(( $(date +%s) - t0 ))s elapsed (limit 3600s)"
    [ $(( $(date +%s) - t0 )) -gt 3600 ] && { kill "$pid"; say "build over its limit"; exit 1; }
  done
  if ! wait "$pid"; then say "build failed:"; tail -30 "$cache/kube-build.log" >&2; exit 1; fi
  echo "$id" >"$stamp"
  say "built in $(( $(date +%s) - t0 ))s: $(du -sh "$bin" | cut -f1) in $bin"
}

cert() { # name CN O [SANs]
  local name="$1" cn="$2" org="$3" sans="${4:-}"
  [ -f "$pki/$name.crt" ] && return
  openssl genrsa -out "$pki/$name.key" 2048 2>/dev/null
  local ext="$pki/$name.ext"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n' >"$ext"
  [ -n "$sans" ] && echo "subjectAltName=$sans" >>"$ext"
  openssl req -new -key "$pki/$name.key" -subj "/CN=$cn${org:+/O=$org}" -out "$pki/$name.csr" 2>/dev/null
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 3650 -extfile "$ext" -out "$pki/$name.crt" 2>/dev/null
}

kubeconfig() { # name cert
  local out="$pki/$1.kubeconfig"
  [ -f "$out" ] && return
  kubectl config set-cluster local --server="https://$node_ip:6443" --certificate-authority="$pki/ca.crt" --embed-certs --kubeconfig="$out" >/dev/null
  kubectl config set-credentials "$1" --client-certificate="$pki/$2.crt" --client-key="$pki/$2.key" --embed-certs --kubeconfig="$out" >/dev/null
  kubectl config set-context local --cluster=local --user="$1" --kubeconfig="$out" >/dev/null
  kubectl config use-context local --kubeconfig="$out" >/dev/null
}

pki_setup() {
  mkdir -p "$pki" && chmod 700 "$pki"
  if [ ! -f "$pki/ca.crt" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/ca.key" -out "$pki/ca.crt" -days 3650 -subj "/CN=sdwebui-test-ca" 2>/dev/null
    openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
    openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  fi
  cert apiserver kube-apiserver "" "IP:$node_ip,IP:10.223.0.1,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:localhost"
  cert admin admin system:masters
  cert kubelet "system:node:$node_name" system:nodes "IP:$node_ip,DNS:$node_name"
  kubeconfig admin admin
}

# running NAME: its pid file names a live process that is still NAME (a pid can be reused).
running() {
  local pid
  pid="$(cat "$run/$1.pid" 2>/dev/null)" || return 1
  { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -q -- "$1"
}

# start NAME LOG command...: runs in the background unless already running; pid in $run/NAME.pid.
start() {
  local name="$1" log="$state/log/$1.log"; shift
  if running "$name"; then return; fi
  setsid "$@" >"$log" 2>&1 </dev/null &
  echo $! >"$run/$name.pid"
}

network() {
  # The node's address on loopback (this kernel has no dummy interfaces): local to this machine only.
  ip -4 addr show dev lo | grep -q " $node_ip/32 " || ip addr add "$node_ip/32" dev lo
  modprobe br_netfilter 2>/dev/null || true
  sysctl -qw net.ipv4.ip_forward=1
  [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] && sysctl -qw net.bridge.bridge-nf-call-iptables=1
  # Docker sets FORWARD's policy to DROP; pod traffic (a Service's DNAT back onto the bridge among it) must pass.
  for dir in -i -o; do
    iptables -C FORWARD "$dir" sdwk8s-br0 -m comment --comment sdwebui-test-cluster -j ACCEPT 2>/dev/null ||
      iptables -I FORWARD 1 "$dir" sdwk8s-br0 -m comment --comment sdwebui-test-cluster -j ACCEPT
  done
  mkdir -p "$state/cni"
  cat >"$state/cni/10-sdwebui.conflist" <<EOF
{ "cniVersion": "1.0.0", "name": "sdwebui", "plugins": [
  { "type": "bridge", "bridge": "sdwk8s-br0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
    "ipam": { "type": "host-local", "ranges": [[{ "subnet": "$pod_cidr" }]], "routes": [{ "dst": "0.0.0.0/0" }] } },
  { "type": "portmap", "capabilities": { "portMappings": true } } ] }
EOF
}

containerd_config() {
  cat >"$state/containerd.toml" <<EOF
version = 2
root = "$state/containerd"
state = "$run/containerd"
[grpc]
  address = "$run/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "sdwebui.local/pause:1"
  # This machine refuses a lower oom_score_adj even to root; the kubelet asks -998 for every sandbox.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$state/cni"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
    # The GPU runtime class's handler: plain runc here (no NVIDIA runtime without a GPU).
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]
      runtime_type = "io.containerd.runc.v2"
EOF
}

kubelet_config() {
  cat >"$state/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $node_ip
authentication: { anonymous: { enabled: false }, webhook: { enabled: false }, x509: { clientCAFile: "$pki/ca.crt" } }
authorization: { mode: AlwaysAllow }
cgroupDriver: cgroupfs
failSwapOn: false
failCgroupV1: false
containerRuntimeEndpoint: unix://$run/containerd.sock
tlsCertFile: $pki/kubelet.crt
tlsPrivateKeyFile: $pki/kubelet.key
evictionHard: { memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%" }
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
resolvConf: /etc/resolv.conf
serializeImagePulls: false
EOF
}

pause_image() {
  ctr_ images ls -q 2>/dev/null | grep -qx "sdwebui.local/pause:1" && return
  local work; work=$(mktemp -d)
  mkdir -p "$work/rootfs"
  cp "$(command -v catatonit)" "$work/rootfs/catatonit"
  tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
  docker import --change 'ENTRYPOINT ["/catatonit","-P"]' - sdwebui.local/pause:1 <"$work/rootfs.tar" >/dev/null
  docker save sdwebui.local/pause:1 | ctr_ images import --all-platforms - >/dev/null
  rm -rf "$work"
}

ctr_() { ctr --address "$run/containerd.sock" -n k8s.io "$@"; }

load() {
  for image in "$@"; do
    say "loading $image into the node's containerd"
    docker save "$image" | ctr_ images import --all-platforms - >/dev/null
  done
}

up() {
  build
  mkdir -p "$state/log" "$state/etcd" "$run"
  pki_setup
  network
  say "starting etcd, kube-apiserver"
  start etcd etcd --name sdwebui --data-dir "$state/etcd" --listen-client-urls http://127.0.0.1:2389 \
    --advertise-client-urls http://127.0.0.1:2389 --listen-peer-urls http://127.0.0.1:2390 --initial-advertise-peer-urls http://127.0.0.1:2390 \
    --initial-cluster sdwebui=http://127.0.0.1:2390
  start kube-apiserver kube-apiserver --etcd-servers http://127.0.0.1:2389 --bind-address "$node_ip" --advertise-address "$node_ip" --secure-port 6443 \
    --service-cluster-ip-range "$service_cidr" --authorization-mode Node,RBAC --client-ca-file "$pki/ca.crt" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --kubelet-client-certificate "$pki/admin.crt" --kubelet-client-key "$pki/admin.key" --kubelet-certificate-authority "$pki/ca.crt" \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --service-account-issuer https://kubernetes.default.svc --allow-privileged --enable-priority-and-fairness=false \
    --kubelet-preferred-address-types InternalIP
  wait_for "kube-apiserver" 90 "$state/log/kube-apiserver.log" kubectl get --raw /readyz
  say "starting controller-manager, scheduler, containerd"
  start kube-controller-manager kube-controller-manager --kubeconfig "$KUBECONFIG" --leader-elect=false \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" --use-service-account-credentials \
    --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" --controllers '*,-nodeipam'
  start kube-scheduler kube-scheduler --kubeconfig "$KUBECONFIG" --leader-elect=false
  containerd_config
  start containerd containerd --config "$state/containerd.toml"
  wait_for "containerd" 30 "$state/log/containerd.log" ctr_ version
  pause_image
  kubeconfig kubelet kubelet
  kubelet_config
  say "starting kubelet, kube-proxy, the fake GPU plugin ($GPUS devices)"
  mkdir -p "$state/kubelet"
  start kubelet kubelet --config "$state/kubelet.yaml" --kubeconfig "$pki/kubelet.kubeconfig" --root-dir "$state/kubelet" \
    --hostname-override "$node_name" --node-ip "$node_ip"
  start kube-proxy kube-proxy --kubeconfig "$KUBECONFIG" --hostname-override "$node_name" --cluster-cidr "$pod_cidr" \
    --proxy-mode iptables --conntrack-max-per-core 0
  # The kubelet serves device plugins at a fixed path, whatever its --root-dir.
  start fake-gpu-plugin fake-gpu-plugin --count "$GPUS" --dir /var/lib/kubelet/device-plugins
  wait_for "node $node_name Ready" 120 "$state/log/kubelet.log" sh -c "kubectl get node $node_name -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
  wait_for "$GPUS x nvidia.com/gpu on the node" 60 "$state/log/fake-gpu-plugin.log" sh -c "kubectl get node $node_name -o jsonpath='{.status.allocatable.nvidia\\.com/gpu}' | grep -qx $GPUS"
  kubectl apply -f - >/dev/null <<EOF
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: { name: nvidia }
handler: nvidia
EOF
  wait_for "default service account" 60 "$state/log/kube-controller-manager.log" kubectl get serviceaccount default
  say "ready: node $node_name, $GPUS fake GPUs; KUBECONFIG=$KUBECONFIG"
}

# The kubelet's own chains (KUBE-FIREWALL in INPUT/OUTPUT, canaries) outlive kube-proxy --cleanup: drop every
# KUBE-* chain and the jumps to it, in both families, so nothing of the cluster filters traffic after it.
kube_chains_cleanup() {
  local cmd table rule chain
  for cmd in iptables ip6tables; do
    for table in filter nat mangle; do
      { "$cmd" -t "$table" -S 2>/dev/null || true; } | { grep -E '^-A [A-Z]+ .*-j KUBE-' || true; } | while read -r rule; do
        # shellcheck disable=SC2086 # a rule as iptables -S prints it, re-split into its words
        eval "$cmd -t $table ${rule/-A/-D}" 2>/dev/null || true
      done
      for chain in $("$cmd" -t "$table" -S 2>/dev/null | awk '/^-N KUBE-/ {print $2}'); do "$cmd" -t "$table" -F "$chain" 2>/dev/null || true; done
      for chain in $("$cmd" -t "$table" -S 2>/dev/null | awk '/^-N KUBE-/ {print $2}'); do "$cmd" -t "$table" -X "$chain" 2>/dev/null || true; done
    done
  done
}

# stop NAME: SIGTERM, then wait (at most 30 s, then SIGKILL) until it is gone: the next `up` may follow at once
# and binds the same ports.
stop() {
  local pid i
  running "$1" || return 0
  pid="$(cat "$run/$1.pid")"
  kill "$pid" 2>/dev/null || true
  for i in $(seq 1 300); do
    running "$1" || return 0
    if [ "$i" = 300 ]; then kill -9 "$pid" 2>/dev/null || true; fi
    sleep 0.1
  done
  while running "$1"; do sleep 0.1; done
}

down() {
  for name in fake-gpu-plugin kube-proxy kubelet kube-scheduler kube-controller-manager kube-apiserver etcd; do
    stop "$name"
  done
  # Pod sandboxes and containers go with containerd's own state.
  if [ -S "$run/containerd.sock" ]; then
    for c in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s KILL "$c" 2>/dev/null || true; done
    sleep 1
    # Deleting the tasks ends their shims; a killed containerd would leave them behind.
    for c in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks delete -f "$c" >/dev/null 2>&1 || true; done
    for c in $(ctr_ containers ls -q 2>/dev/null); do ctr_ containers rm "$c" >/dev/null 2>&1 || true; done
  fi
  stop containerd
  if [ -x "$bin/kube-proxy" ]; then kube-proxy --cleanup >/dev/null 2>&1 || true; fi
  kube_chains_cleanup
  { grep -o " \($state\|$run\)/[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  for dir in -i -o; do
    while iptables -D FORWARD "$dir" sdwk8s-br0 -m comment --comment sdwebui-test-cluster -j ACCEPT 2>/dev/null; do :; done
  done
  ip link del sdwk8s-br0 2>/dev/null || true
  ip addr del "$node_ip/32" dev lo 2>/dev/null || true
  # A volume still mounted under the state would take the host folder behind it along with rm: stop instead.
  if grep -q " \($state\|$run\)/" /proc/mounts; then
    say "still mounted under $state or $run (left in place):"; grep " \($state\|$run\)/" /proc/mounts >&2; exit 1
  fi
  rm -rf "$state" "$run" /var/lib/cni/networks/sdwebui
  say "down"
}

case "${1:-}" in
  build) build ;;
  up) up ;;
  load) shift; load "$@" ;;
  down) down ;;
  env) echo "KUBECONFIG=$KUBECONFIG"; echo "KUBE_BIN=$bin" ;;
  *) echo "usage: $0 build|up|load IMAGE...|down|env" >&2; exit 2 ;;
esac
