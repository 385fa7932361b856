// The stacks whose resource URNs are pinned in fixtures/urns-before-components.json: the URNs the
// program registered before each container became its own component. Regenerate nothing: the file is
// the record of what deployed stacks hold, and the alias test checks today's program against it.
export const PASSWORD = "correct-horse-battery-9";
export const KNOWN = "gpu-1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
export const URN_STACKS: Record<string, Record<string, unknown>> = {
  single: { gpus: "all" },
  "scale-out": { hosts: ["ssh://root@gpu-1#0,1", "unix:///var/run/docker.sock#cpu:2"], sshKnownHosts: KNOWN, firewallAllowlist: ["10.0.0.0/8"] },
  "nftables-smoke-off": { firewallBackend: "nftables", smokeEnabled: false, gpus: "none" },
  checkpoints: { checkpoints: [{ source: "https://hf.example/m.safetensors", sha256: "a".repeat(64) }] },
};
