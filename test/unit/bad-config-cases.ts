// Bad stack configurations with the key and message each must produce; shared by the pure
// validation test and the program test (which checks that none of them registers a resource).
// [settings, key, message pattern]
import { TLS_BAD } from "./bad-config-tls.js";

const HASH_A = "a".repeat(64);
const HASH_B = "b".repeat(64);
export const BAD: [Record<string, unknown>, string, RegExp][] = [
  [{ apiPassword: undefined }, "apiPassword", /is required/],
  [{ apiPassword: "short1" }, "apiPassword", /too short/],
  [{ apiPassword: "has:colon-in-it-123" }, "apiPassword", /contains ":".*crash/],
  [{ apiPassword: "has,comma-in-it-123" }, "apiPassword", /contains ","/],
  [{ apiPassword: "has space in it 123" }, "apiPassword", /white space/],
  [{ imageProfile: "sd-auto", apiPassword: "dollar$sign-in-it-1" }, "apiPassword", /shell in this image would expand/],
  [{ hostPort: "70000" }, "hostPort", /at most 65535/],
  [{ hostPort: "http" }, "hostPort", /whole number/],
  [{ hostPort: "0" }, "hostPort", /at least 1/],
  [{ bindAddress: "everywhere" }, "bindAddress", /IP address/],
  [{ gpus: "several" }, "gpus", /all, none, a count/],
  [{ gpus: "0" }, "gpus", /from 1 to 64/],
  [{ gpus: "device=0,0" }, "gpus", /device=/],
  [{ imageProfile: "automatic" }, "imageProfile", /universonic, siutin, sd-auto, custom/],
  [{ image: "Not A Valid/Image" }, "image", /Docker image reference/],
  [{ outputsDir: "relative/out" }, "outputsDir", /absolute path/],
  [{ outputsDir: "/" }, "outputsDir", /root folder/],
  [{ outputsDir: "/srv/out dir" }, "outputsDir", /no spaces/],
  [{ outputsDir: "/srv/a/../b" }, "outputsDir", /normalised/],
  [{ modelsDir: "/srv/sd-webui/outputs/models" }, "modelsDir", /apart from outputsDir/],
  [{ extraArgs: ["--share"] }, "extraArgs", /--share opens the server.*allowInsecureFlags/],
  [{ extraArgs: ["--enable-insecure-extension-access"] }, "extraArgs", /allowInsecureFlags: true/],
  [{ extraArgs: ["--api-auth=x:y"] }, "extraArgs", /--api-auth is set by the program/],
  [{ extraArgs: ["--port", "9000"] }, "extraArgs", /--port is set by the program/],
  [{ extraArgs: ["--listen"] }, "extraArgs", /--listen is set by the program/],
  [{ gpus: "none", extraArgs: ["--no-half"] }, "extraArgs", /already set by gpus: none/],
  [{ extraArgs: ["--ckpt", "$(rm -rf /)"] }, "extraArgs", /shell characters/],
  [{ extraArgs: "--xformers" }, "extraArgs", /must be a list/],
  [{ dockerHost: "tcp://10.0.0.5:2375" }, "dockerHost", /without authentication; use ssh/],
  [{ dockerHost: "ssh://gpu-box" }, "dockerHost", /ssh:\/\/user@host/],
  [{ dockerHost: "ssh://ops@gpu-box" }, "sshKnownHosts", /required with an ssh:\/\/ host/],
  [
    { hosts: ["ssh://ops@gpu-1#0", "ssh://ops@gpu-1#1"], sshKnownHosts: "gpu-1 ssh-ed25519 AAAA" },
    "hosts",
    /lists ssh:\/\/ops@gpu-1 twice/,
  ],
  [{ hosts: ["ssh://ops@gpu-1"] }, "hosts", /names no GPUs/],
  [{ hosts: ["unix:///var/run/docker.sock#0"], gpus: "2" }, "gpus", /not used with hosts/],
  [
    {
      hosts: ["unix:///var/run/docker.sock#0"],
      dockerHost: "ssh://ops@gpu-9",
      sshKnownHosts: "gpu-9 ssh-ed25519 AAAA",
    },
    "dockerHost",
    /not used with hosts/,
  ],
  [{ dockerHost: "ssh://root@bad_host!" }, "dockerHost", /ssh:\/\/user@host|not a host name/],
  [{ dockerHost: "ssh://root@gpu:70000" }, "dockerHost", /ssh port must be a TCP port \(a whole number 1-65535\)/],
  [{ sshKnownHosts: "gpu ssh-ed25519 AAAA" }, "sshKnownHosts", /only used with an ssh:\/\/ dockerHost/],
  [
    { dockerHost: "ssh://ops@gpu-box", sshKnownHosts: "gpu-box; touch /tmp/x" },
    "sshKnownHosts",
    /is not a known_hosts line/,
  ],
  [
    { dockerHost: "ssh://ops@gpu-box", sshKnownHosts: "# only a comment" },
    "sshKnownHosts",
    /holds no known_hosts line/,
  ],
  [{ firewallAllowlist: ["10.0.0.0/33"] }, "firewallAllowlist", /prefix length must be 0-32/],
  [{ firewallAllowlist: ["example.com"] }, "firewallAllowlist", /not a valid IPv4 or IPv6 address/],
  [{ firewallAllowlist: ["10.0.0.5/8"] }, "firewallAllowlist", /host bits set/],
  [{ firewallBackend: "ufw" }, "firewallBackend", /iptables, nftables or none/],
  [{ smokeTimeoutSeconds: "5" }, "smokeTimeoutSeconds", /at least 10/],
  [{ smokeEnabled: "yes" }, "smokeEnabled", /true or false/],
  [{ imageProfile: "custom" }, "profileDataRoot", /required with imageProfile: custom/],
  [{ imageProfile: "custom" }, "image", /required with imageProfile: custom/],
  [{ profileUid: "1000" }, "profileUid", /only used with imageProfile: custom/],
  [{ exposure: "api-only", uiPassword: "ui-password-long-1" }, "uiPassword", /not used with exposure: api-only/],
  [{ exposure: "public" }, "exposure", /api-and-ui or api-only/],
  [{ hostport: "7860" }, "hostport", /not a setting of this program; did you mean hostPort\?/],
  [{ containerName: "-bad" }, "containerName", /Docker container name/],
  [{ apiUsername: "-sd" }, "apiUsername", /not starting with -/],
  [{ uiUsername: "--admin" }, "uiUsername", /not starting with -/],
  [{ apiUsername: "jürgen" }, "apiUsername", /ASCII/],
  [{ apiPassword: "pässwört-long-123" }, "apiPassword", /non-ASCII.*401/],
  [{ uiPassword: "ключ-пароль-длинный" }, "uiPassword", /non-ASCII/],
  [{ apiHost: "gpu-1:8080" }, "apiHost", /without a port/],
  [{ apiHost: "[::1]" }, "apiHost", /brackets/],
  [{ apiHost: "fe80::1%eth0" }, "apiHost", /zone/],
  [{ bindAddress: "fe80::1%eth0" }, "bindAddress", /IPv6 zone/],
  [{ outputsDir: "/etc" }, "outputsDir", /is in \/etc, a system folder/],
  [{ modelsDir: "/var/run/sd" }, "modelsDir", /is in \/var\/run, a system folder/],
  [{ outputsDir: "/root/outputs" }, "outputsDir", /is in \/root/],
  [{ outputsDir: "/proc/self" }, "outputsDir", /is in \/proc/],
  [{ modelsDir: "/home" }, "modelsDir", /is \/home itself/],
  [{ outputsDir: "/run/docker.sock" }, "outputsDir", /is in \/run/],
  [
    { hosts: ["ssh://ops@gpu-1#0", "ssh://root@GPU-1:22#1"], sshKnownHosts: "gpu-1 ssh-ed25519 AAAA" },
    "hosts",
    /ssh:\/\/ops@gpu-1 and ssh:\/\/root@GPU-1:22, which reach the same Docker engine/,
  ],
  [
    { hosts: ["unix:///var/run/docker.sock#cpu:1", "unix:///run/docker.sock#cpu:1"] },
    "hosts",
    /unix:\/\/\/var\/run\/docker.sock and unix:\/\/\/run\/docker.sock, which reach the same/,
  ],
  [{ extraArgs: ["--shar"] }, "extraArgs", /--shar \(an abbreviation the WebUI reads as --share\) opens the server/],
  [
    { extraArgs: ["--api-aut=u:p"] },
    "extraArgs",
    /--api-aut \(an abbreviation the WebUI reads as --api-auth\) is set by the program/,
  ],
  [{ extraArgs: ["--enable-insecure"] }, "extraArgs", /reads as --enable-insecure-extension-access\) opens/],
  [{ extraArgs: ["--liste"] }, "extraArgs", /reads as --listen\) is set by the program/],
  [
    { extraArgs: ["--ap"] },
    "extraArgs",
    /abbreviation of several WebUI flags \(--api, --api-auth, --api-log, --api-server-stop\)/,
  ],
  [{ extraArgs: ["--nowe"] }, "extraArgs", /reads as --nowebui\) is set by the program/],
  [{ gpus: "none", extraArgs: ["--use-c", "all"] }, "extraArgs", /reads as --use-cpu\) is already set by gpus: none/],
  // checkpoints: bad entries, unsafe names, duplicates, the token's rules
  [
    { checkpoints: [{ source: "https://hf.example/m.safetensors", sha256: "abc" }] },
    "checkpoints[0].sha256",
    /64 hexadecimal digits/,
  ],
  [{ checkpoints: [{ source: "https://hf.example/m.safetensors" }] }, "checkpoints", /sha256.*required|is required/],
  [
    { checkpoints: [{ source: "ftp://hf.example/m.safetensors", sha256: HASH_A }] },
    "checkpoints",
    /only https:\/\/ and http:\/\//,
  ],
  [{ checkpoints: [{ source: "models/m.safetensors", sha256: HASH_A }] }, "checkpoints", /URL or an absolute path/],
  [
    { checkpoints: [{ source: "https://hf.example/resolve/main/", sha256: HASH_A }] },
    "checkpoints",
    /taken from the source.*set fileName/,
  ],
  [
    {
      checkpoints: [
        { source: "https://hf.example/m.safetensors", sha256: HASH_A, fileName: "../../etc/cron.d/x.ckpt" },
      ],
    },
    "checkpoints",
    /must stay inside <modelsDir>\/Stable-diffusion/,
  ],
  [
    { checkpoints: [{ source: "https://hf.example/m.safetensors", sha256: HASH_A, fileName: "my model.safetensors" }] },
    "checkpoints",
    /only letters, digits/,
  ],
  [
    { checkpoints: [{ source: "https://hf.example/m.safetensors", sha256: HASH_A, fileName: "m.bin" }] },
    "checkpoints",
    /must end in .safetensors or .ckpt/,
  ],
  [
    { checkpoints: [{ source: "https://hf.example/m.vae.safetensors", sha256: HASH_A }] },
    "checkpoints",
    /VAE file name/,
  ],
  [
    { checkpoints: [{ source: "https://u:p@hf.example/m.safetensors", sha256: HASH_A }] },
    "checkpoints",
    /must not carry credentials/,
  ],
  [
    { checkpoints: [{ source: "https://hf.example/m.safetensors", sha256: HASH_A, size: 3 }] },
    "checkpoints[0]",
    /has no field size/,
  ],
  // credentials in the URL's query: stored in plain text like user:pw@, so refused the same way (the value never shown)
  [
    {
      checkpoints: [
        {
          source: "https://civitai.example/api/download/models/1?type=Model&token=c1v1t4i-secret-value",
          sha256: HASH_A,
          fileName: "m.safetensors",
        },
      ],
    },
    "checkpoints",
    /must not carry a credential in its query \("token"\).*checkpointToken secret and set useToken: true/,
  ],
  [
    { checkpoints: [{ source: "https://hf.example/m.safetensors?access_token=oauth-secret-value", sha256: HASH_A }] },
    "checkpoints",
    /credential in its query \("access_token"\)/,
  ],
  [
    {
      checkpoints: [
        {
          source:
            "https://bucket.s3.example/m.safetensors?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20250101&X-Amz-Signature=5ec12e7",
          sha256: HASH_A,
        },
      ],
    },
    "checkpoints",
    /\("X-Amz-Credential", "X-Amz-Signature"\).*presigned or signed URL, download the file to the Docker host and give its path as the source/,
  ],
  [
    {
      checkpoints: [
        { source: "https://storage.example/b/m.safetensors?X-Goog-Signature=abc123secret", sha256: HASH_A },
      ],
    },
    "checkpoints",
    /\("X-Goog-Signature"\)/,
  ],
  [
    {
      checkpoints: [
        {
          source: "https://acct.blob.example/c/m.safetensors?sv=2022-11-02&se=2030-01-01&sig=azure-sas-secret",
          sha256: HASH_A,
        },
      ],
    },
    "checkpoints",
    /\("sig"\)/,
  ],
  [
    { checkpoints: [{ source: "https://api.example/m.safetensors?apiKey=k3y-secret-value", sha256: HASH_A }] },
    "checkpoints",
    /\("apiKey"\)/,
  ],
  [
    { checkpoints: [{ source: "https://api.example/m.safetensors?%74oken=encoded-name-secret", sha256: HASH_A }] },
    "checkpoints",
    /\("token"\)/,
  ],
  [
    { checkpoints: [{ source: "https://api.example/m.safetensors?download=1;auth=semicolon-secret", sha256: HASH_A }] },
    "checkpoints",
    /\("auth"\)/,
  ],
  // a name that is a file and, for another entry, a folder
  [
    {
      checkpoints: [
        { source: "https://a.example/a.safetensors", sha256: HASH_A },
        { source: "https://a.example/b.safetensors", sha256: HASH_B, fileName: "a.safetensors/b.safetensors" },
      ],
    },
    "checkpoints",
    /names a\.safetensors as a file \(entry 0\) and as a folder of a\.safetensors\/b\.safetensors \(entry 1\); one path cannot be both: rename one of them \(fileName\)/,
  ],
  [
    {
      checkpoints: [
        { source: "https://a.example/x.ckpt", sha256: HASH_A, fileName: "A.safetensors" },
        { source: "https://a.example/b.safetensors", sha256: HASH_B, fileName: "a.safetensors/deep/b.safetensors" },
      ],
    },
    "checkpoints",
    /names A\.safetensors as a file/,
  ],
  [
    {
      checkpoints: [
        { source: "https://a.example/b.safetensors", sha256: HASH_B, fileName: "sd/x.ckpt/b.safetensors" },
        { source: "https://a.example/x.ckpt", sha256: HASH_A, fileName: "sd/x.ckpt" },
      ],
    },
    "checkpoints",
    /names sd\/x\.ckpt as a file \(entry 1\) and as a folder of sd\/x\.ckpt\/b\.safetensors \(entry 0\)/,
  ],
  // sizeBytes: a whole number of bytes
  [
    { checkpoints: [{ source: "https://a.example/m.safetensors", sha256: HASH_A, sizeBytes: 0 }] },
    "checkpoints[0].sizeBytes",
    /must be at least 1 \(the file's exact size in bytes\)/,
  ],
  [
    { checkpoints: [{ source: "https://a.example/m.safetensors", sha256: HASH_A, sizeBytes: "7 GB" }] },
    "checkpoints[0].sizeBytes",
    /must be a whole number \(the file's exact size in bytes\)/,
  ],
  [
    { checkpoints: [{ source: "https://a.example/m.safetensors", sha256: HASH_A, sizeBytes: 2 ** 51 }] },
    "checkpoints[0].sizeBytes",
    /must be at most 1125899906842624/,
  ],
  // a host-path source in a folder the containers write: it could become a link to a host file root then reads
  [
    { checkpoints: [{ source: "/srv/sd-webui/models/incoming/m.safetensors", sha256: HASH_A }] },
    "checkpoints",
    /item 0: the source \/srv\/sd-webui\/models\/incoming\/m\.safetensors lies in modelsDir \(\/srv\/sd-webui\/models\), a folder the containers write.*keep the file outside the outputs and models folders/,
  ],
  [
    { checkpoints: [{ source: "/srv/sd-webui/outputs/m.safetensors", sha256: HASH_A }] },
    "checkpoints",
    /lies in outputsDir \(\/srv\/sd-webui\/outputs\)/,
  ],
  [
    {
      modelsDir: "/data/models",
      checkpoints: [
        { source: "/data/models/Stable-diffusion/m.safetensors", sha256: HASH_A, fileName: "n.safetensors" },
      ],
    },
    "checkpoints",
    /lies in modelsDir \(\/data\/models\)/,
  ],
  [
    {
      checkpoints: [
        { source: "https://a.example/m.safetensors", sha256: HASH_A },
        { source: "/srv/models/M.safetensors", sha256: HASH_B, fileName: "M.safetensors" },
      ],
    },
    "checkpoints",
    /names the file M.safetensors twice/,
  ],
  [
    {
      checkpoints: [
        { source: "https://a.example/m.safetensors", sha256: HASH_A },
        { source: "https://a.example/n.safetensors", sha256: HASH_A },
      ],
    },
    "checkpoints",
    /same sha256 for m.safetensors and n.safetensors/,
  ],
  [
    {
      checkpoints: [
        { source: "https://a.example/m.safetensors", sha256: HASH_A, loadFirst: true },
        { source: "https://a.example/n.safetensors", sha256: HASH_B, loadFirst: "true" },
      ],
    },
    "checkpoints",
    /marks 2 entries loadFirst/,
  ],
  [
    { checkpoints: [{ source: "https://a.example/m.safetensors", sha256: HASH_A, useToken: true }] },
    "checkpointToken",
    /is required: a checkpoints entry has useToken: true/,
  ],
  [
    {
      checkpoints: [{ source: "http://a.example/m.safetensors", sha256: HASH_A, useToken: true }],
      checkpointToken: "hf_token_1234567890",
    },
    "checkpoints",
    /clear text over http/,
  ],
  [
    {
      checkpoints: [{ source: "/srv/models/m.safetensors", sha256: HASH_A, useToken: true }],
      checkpointToken: "hf_token_1234567890",
    },
    "checkpoints",
    /URL sources only/,
  ],
  [{ checkpointToken: "hf_token_1234567890" }, "checkpointToken", /is not used: no checkpoints entry has useToken/],
  [
    {
      checkpoints: [{ source: "https://a.example/m.safetensors", sha256: HASH_A, useToken: true }],
      checkpointToken: 'bad"quote',
    },
    "checkpointToken",
    /must not contain "/,
  ],
  [
    { checkpoints: [{ source: "https://a.example/m.safetensors", sha256: HASH_A }], extraArgs: ["--ckpt", "/x.ckpt"] },
    "extraArgs",
    /--ckpt conflicts with the checkpoints setting/,
  ],
  [
    { checkpoints: [{ source: "https://a.example/m.safetensors", sha256: HASH_A }], extraArgs: ["--no-hash"] },
    "extraArgs",
    /reads as --no-hashing\) conflicts with the checkpoints setting/,
  ],
  // the Kubernetes target: settings of the other target refused, names and sizes as the API server checks them
  [{ target: "kubernetes", hostPort: "7861" }, "hostPort", /setting of target docker.*on kubernetes use servicePort/],
  [{ target: "kubernetes", gpus: "1" }, "gpus", /on kubernetes use replicas and gpusPerPod/],
  [{ target: "kubernetes", outputsDir: "/srv/o" }, "outputsDir", /on kubernetes use outputsClaim or storageClass/],
  [
    { target: "kubernetes", checkpoints: [{ source: "https://a.example/m.safetensors", sha256: HASH_A }] },
    "checkpoints",
    /placement step runs on Docker hosts only/,
  ],
  [{ replicas: "2" }, "replicas", /setting of target kubernetes, and this stack's target is docker/],
  [
    { target: "kubernetes", kubeContext: "prod", kubeconfig: "apiVersion: v1\ncontexts:\n- name: dev\n" },
    "kubeContext",
    /is not a context of the kubeconfig setting \(it has dev\)/,
  ],
  [{ target: "kubernetes", kubeconfig: "clusters: []" }, "kubeconfig", /has no contexts/],
  [{ target: "kubernetes", namespace: "GPU_Team" }, "namespace", /DNS-1123 label/],
  [{ target: "kubernetes", replicas: "0" }, "replicas", /at least 1/],
  [{ target: "kubernetes", gpuResource: "nvidia gpu" }, "gpuResource", /extended resource name/],
  [{ target: "kubernetes", outputsStorageSize: "20 GB" }, "outputsStorageSize", /storage quantity/],
  [{ target: "kubernetes", modelsStorageSize: "0Gi" }, "modelsStorageSize", /more than zero/],
  [{ target: "kubernetes", serviceType: "Ingress" }, "serviceType", /ClusterIP, NodePort or LoadBalancer/],
  [
    { target: "kubernetes", tolerations: [{ key: "gpu", operator: "Exists", value: "x" }] },
    "tolerations",
    /operator Exists takes no value/,
  ],
  [{ target: "kubernetes", nodeSelector: { "gpu type": "a100" } }, "nodeSelector", /qualified name|map of node label/],
  [{ target: "kubernetes", gpusPerPod: "0", runtimeClassName: "nvidia" }, "runtimeClassName", /CPU mode/],
  [
    { target: "kubernetes", firewallAllowlist: ["10.0.0.0/8"], networkPolicy: "false" },
    "firewallAllowlist",
    /admits 10\.0\.0\.0\/8 only, but nothing enforces that on the Service's cluster IP/,
  ],
  [{ target: "swarm" }, "target", /docker or kubernetes/],
  [
    { target: "kubernetes", serviceType: "NodePort", firewallAllowlist: ["10.0.0.0/8"], networkPolicy: "false" },
    "firewallAllowlist",
    /serviceType NodePort takes no source ranges/,
  ],
  [{ target: "kubernetes", storageAccessMode: "ReadOnlyMany" }, "storageAccessMode", /ReadWriteOnce or ReadWriteMany/],
  // An empty allowlist means no remote client on Kubernetes too: a way in that nothing restricts is refused unless 0.0.0.0/0 or ::/0 says "any".
  [
    { target: "kubernetes", serviceType: "LoadBalancer", networkPolicy: "false" },
    "firewallAllowlist",
    /is empty, which means no remote client, but nothing enforces that on .*the load balancer's address/,
  ],
  [
    { target: "kubernetes", serviceType: "NodePort", networkPolicy: "false" },
    "firewallAllowlist",
    /is empty, .*nothing enforces that on .*its node ports \(every address that reaches a node\)/,
  ],
  [
    { target: "kubernetes", networkPolicy: "false" },
    "firewallAllowlist",
    /is empty, .*nothing enforces that on the Service's cluster IP \(every pod of the cluster\)/,
  ],
  [
    { target: "kubernetes", serviceType: "LoadBalancer", networkPolicy: "false", firewallAllowlist: ["10.0.0.0/8"] },
    "firewallAllowlist",
    /node ports .*loadBalancerSourceRanges cover the load balancer's address only/,
  ],
  // WebUI flags that widen what is reachable or what runs need allowInsecureFlags, each with its reason.
  [
    { extraArgs: ["--gradio-allowed-path=/"] },
    "extraArgs",
    /--gradio-allowed-path lets \/file= serve that folder .*whole filesystem.*allowInsecureFlags: true/,
  ],
  [
    { extraArgs: ["--cors-allow-origins-regex=.+"] },
    "extraArgs",
    /--cors-allow-origins-regex .*any web page.*browser credentials.*allowInsecureFlags/,
  ],
  [
    { extraArgs: ["--disable-safe-unpickle"] },
    "extraArgs",
    /--disable-safe-unpickle turns off the check that keeps a \.ckpt .* from running code/,
  ],
  [
    { extraArgs: ["--cors-allow-origins=https://tools.example"] },
    "extraArgs",
    /--cors-allow-origins lets pages of those web origins/,
  ],
  [{ extraArgs: ["--api-server-stop"] }, "extraArgs", /server-kill.*every API client can stop the WebUI/],
  [{ extraArgs: ["--administrator"] }, "extraArgs", /open any folder of the container/],
  [{ extraArgs: ["--update-all-extensions"] }, "extraArgs", /newest code of every installed extension/],
  [{ extraArgs: ["--add-stop-route"] }, "extraArgs", /unauthenticated POST \/_stop/],
  [
    { extraArgs: ["--gradio-allowed", "/etc"] },
    "extraArgs",
    /--gradio-allowed \(an abbreviation the WebUI reads as --gradio-allowed-path\) lets/,
  ],
  [{ extraArgs: ["--disable-safe"] }, "extraArgs", /reads as --disable-safe-unpickle\) turns off/],
  // Flags and token lists with which the WebUI exits at start-up (a crash loop, then the smoke's timeout).
  [{ extraArgs: ["-h"] }, "extraArgs", /-h prints the WebUI's help text and exits/],
  [{ extraArgs: ["--he"] }, "extraArgs", /--he \(--help\) prints the WebUI's help text/],
  [{ extraArgs: ["-x"] }, "extraArgs", /-x is not an option of the WebUI \(its only single-dash options are -h and -f/],
  [{ extraArgs: ["-fh"] }, "extraArgs", /-fh prints the WebUI's help text/],
  [{ extraArgs: ["--exit"] }, "extraArgs", /--exit makes launch\.py exit after preparing the environment/],
  [{ extraArgs: ["--dump-sysinfo"] }, "extraArgs", /writes a system-info file and exits/],
  [{ extraArgs: ["--dump"] }, "extraArgs", /--dump \(an abbreviation the WebUI reads as --dump-sysinfo\)/],
  [{ extraArgs: ["--test-server"] }, "extraArgs", /empty test checkpoint/],
  [{ extraArgs: ["--ui-debug-mode"] }, "extraArgs", /without loading any model/],
  [{ extraArgs: ["--xformers", "--vae-path"] }, "extraArgs", /--vae-path takes a value, but it is the last token/],
  [
    { extraArgs: ["--vae-path", "--medvram"] },
    "extraArgs",
    /--vae-path takes a value, but the next token, --medvram, is an option/,
  ],
  [
    { extraArgs: ["--xformers", "yes"] },
    "extraArgs",
    /yes follows no flag that takes a value; .*unrecognized argument/,
  ],
  [{ extraArgs: ["--xformers=1"] }, "extraArgs", /--xformers takes no value/],
  [{ extraArgs: ["--precision", "fp16"] }, "extraArgs", /--precision takes one of full, half, autocast, not "fp16"/],
  [{ extraArgs: ["--max-batch-count=many"] }, "extraArgs", /--max-batch-count takes a whole number/],
  [{ extraArgs: ["--medvram", "--"] }, "extraArgs", /"--" makes every later token an argument/],
  [
    { gpus: "1", extraArgs: ["--device-id", "1"] },
    "extraArgs",
    /--device-id 1 selects GPU 1, but each container sees 1 GPU \(gpus: 1\).*use 0/,
  ],
  [
    { gpus: "device=0,2", extraArgs: ["--device-id=2"] },
    "extraArgs",
    /each container sees 2 GPUs \(gpus: device=0,2\), numbered from 0.*use 0 to 1/,
  ],
  [
    { hosts: ["unix:///var/run/docker.sock#0,1"], extraArgs: ["--device-id=1"] },
    "extraArgs",
    /sees 1 GPU \(hosts: one GPU per container\)/,
  ],
  [
    { target: "kubernetes", gpusPerPod: "2", extraArgs: ["--device-id", "2"] },
    "extraArgs",
    /sees 2 GPUs \(gpusPerPod: 2\)/,
  ],
  [
    { gpus: "none", extraArgs: ["--device-id", "0"] },
    "extraArgs",
    /selects a GPU, but gpus: none runs the WebUI without one/,
  ],
  [{ extraArgs: ["--device-id", "cuda1"] }, "extraArgs", /not a CUDA device index/],
  [
    { extraArgs: ["--tls-keyfile=/certs/key.pem", "--tls-certfile=/certs/cert.pem"] },
    "extraArgs",
    /--tls-keyfile is not supported: set tls \(internal, acme or files\)/,
  ],
  [
    { extraArgs: ["--tls-k", "/certs/key.pem"] },
    "extraArgs",
    /--tls-k \(an abbreviation the WebUI reads as --tls-keyfile\) is not supported/,
  ],
  [{ extraArgs: ["--disable-tls-verify"] }, "extraArgs", /only concerns the WebUI's own TLS/],
  [
    { extraArgs: [`--styles-file=/x/${"a".repeat(130 * 1024)}`] },
    "extraArgs",
    /bytes together: Linux refuses to start a process with one argument or variable over 128 KiB/,
  ],
  [
    { extraArgs: Array.from({ length: 9000 }, (_, i) => `--styles-file=/styles/${i}.csv`) },
    "extraArgs",
    /bytes together/,
  ],
  [{ target: "kubernetes", gpusPerPod: "0", extraArgs: ["--no-half"] }, "extraArgs", /already set by gpusPerPod: 0/],
  // Values the API server (or the provider's client) would refuse only once the rollout is under way.
  [
    {
      target: "kubernetes",
      tolerations: [{ key: "node.kubernetes.io/unreachable", operator: "Exists", tolerationSeconds: 300 }],
    },
    "tolerations[0].effect",
    /must be NoExecute when tolerationSeconds is set/,
  ],
  [
    {
      target: "kubernetes",
      tolerations: [{ key: "gpu", operator: "Exists", effect: "NoSchedule", tolerationSeconds: "60" }],
    },
    "tolerations[0].effect",
    /must be NoExecute/,
  ],
  [
    { target: "kubernetes", tolerations: [{ key: `${"a".repeat(254)}/gpu`, operator: "Exists" }] },
    "tolerations[0].key",
    /prefix .*at most 253/,
  ],
  [
    { target: "kubernetes", gpuResource: "cpu" },
    "gpuResource",
    /cpu is one of Kubernetes' own resources, .*cap each pod/,
  ],
  [{ target: "kubernetes", gpuResource: "memory" }, "gpuResource", /cap each pod at that much memory/],
  [{ target: "kubernetes", gpuResource: "kubernetes.io/gpu" }, "gpuResource", /kubernetes\.io namespace/],
  [{ target: "kubernetes", gpuResource: "gpu.kubernetes.io/nvidia" }, "gpuResource", /kubernetes\.io namespace/],
  [{ target: "kubernetes", gpuResource: "requests.nvidia.com/gpu" }, "gpuResource", /starts with "requests\."/],
  [
    { target: "kubernetes", gpuResource: "NVIDIA.com/gpu" },
    "gpuResource",
    /prefix "NVIDIA\.com" must be a DNS subdomain/,
  ],
  [
    { target: "kubernetes", outputsClaim: "shared", modelsClaim: "shared" },
    "modelsClaim",
    /is the claim outputs go to as well \(shared\): the smoke Job would mount it twice/,
  ],
  [
    {
      target: "kubernetes",
      kubeconfig:
        "apiVersion: v1\ncontexts:\n- name: dev\n  context: {cluster: c, user: u}\nclusters:\n- name: c\n  cluster: {server: https://10.0.0.1:6443}\nusers:\n- name: u\n  user: {}\n",
    },
    "kubeContext",
    /is not set, and the kubeconfig setting names no current-context/,
  ],
  [
    {
      target: "kubernetes",
      kubeconfig: "current-context: prod\ncontexts:\n- name: dev\n  context: {cluster: c, user: u}\n",
    },
    "kubeconfig",
    /names current-context prod, which is not one of its contexts \(dev\)/,
  ],
  [
    {
      target: "kubernetes",
      kubeconfig:
        "current-context: dev\ncontexts:\n- name: dev\n  context: {cluster: gone, user: u}\nusers:\n- name: u\n  user: {}\n",
    },
    "kubeconfig",
    /context dev names cluster gone, which the kubeconfig does not hold/,
  ],
  [
    {
      target: "kubernetes",
      kubeconfig:
        "current-context: dev\ncontexts:\n- name: dev\n  context: {cluster: c, user: admin}\nclusters:\n- name: c\n  cluster: {server: https://10.0.0.1:6443}\n",
    },
    "kubeconfig",
    /names user admin, which the kubeconfig does not hold .*anonymously/,
  ],
  [
    {
      target: "kubernetes",
      kubeContext: "dev",
      kubeconfig:
        "contexts:\n- name: dev\n  context: {cluster: c, user: u}\nclusters:\n- name: c\n  cluster: {}\nusers:\n- name: u\n",
    },
    "kubeconfig",
    /cluster c \(of context dev\) has no server address/,
  ],
  // Error text: the item and field at fault, values as written (control characters escaped, credentials masked).
  [{ firewallAllowlist: ["10.0.0.0/8", "192.168.1.0/33"] }, "firewallAllowlist[1]", /prefix length must be 0-32/],
  [{ firewallAllowlist: ["10.0.0.0/8\u009b31m"] }, "firewallAllowlist[0]", /\\u009b31m/],
  [{ hosts: [{ host: "ssh://ops@gpu-1", gpus: [0] }] }, "hosts[0]", /expected string|must be/],
  [
    { checkpoints: [{ source: "https://hf.example/%1b%5b2J%1b%5b31mevil.safetensors", sha256: HASH_A }] },
    "checkpoints[0].fileName",
    /taken from the source: "\\u001b\[2J\\u001b\[31mevil\.safetensors"/,
  ],
  // Values the engine or the provider reads back in another form: each would replace the container on every run.
  [{ bindAddress: "0:0::0" }, "bindAddress", /written as Docker reports it: ::/],
  [{ bindAddress: "2001:DB8::1" }, "bindAddress", /written as Docker reports it: 2001:db8::1/],
  [{ bindAddress: "::ffff:127.0.0.1" }, "bindAddress", /IPv4-mapped.*127\.0\.0\.1/],
  [
    {
      imageProfile: "custom",
      image: "x/y:1",
      profileDataRoot: "/app/",
      profileOutputsPath: "/app/outputs",
      profileModelsPath: "/app/models",
      profileUid: "1000",
      profilePort: "7860",
      profileFlagsVia: "args",
    },
    "profileDataRoot",
    /normalised/,
  ],
  [
    {
      imageProfile: "custom",
      image: "x/y:1",
      profileDataRoot: "/app//webui",
      profileOutputsPath: "/app/outputs",
      profileModelsPath: "/app/models",
      profileUid: "1000",
      profilePort: "7860",
      profileFlagsVia: "args",
    },
    "profileDataRoot",
    /normalised/,
  ],
  [
    {
      imageProfile: "custom",
      image: "x/y:1",
      profileDataRoot: "/app",
      profileOutputsPath: "/app/./outputs",
      profileModelsPath: "/app/models",
      profileUid: "1000",
      profilePort: "7860",
      profileFlagsVia: "args",
    },
    "profileOutputsPath",
    /normalised/,
  ],
  // An RSA-only pin: the command provider's ssh client would offer the host nothing but ssh-rsa.
  [
    { dockerHost: "ssh://ops@gpu-box", sshKnownHosts: "gpu-box ssh-rsa AAAAB3NzaC1yc2E" },
    "sshKnownHosts",
    /only an ssh-rsa key for gpu-box.*OpenSSH 8\.8/,
  ],
  [
    {
      hosts: ["ssh://ops@gpu-1#0", "ssh://ops@gpu-2#0"],
      sshKnownHosts: "gpu-1 ssh-ed25519 AAAA\ngpu-2 ssh-rsa AAAAB3NzaC1yc2E",
    },
    "sshKnownHosts",
    /only an ssh-rsa key for gpu-2/,
  ],
  [
    { dockerHost: "ssh://ops@[2001:db8::5]:2222", sshKnownHosts: "[2001:db8::5]:2222 ssh-rsa AAAAB3NzaC1yc2E" },
    "sshKnownHosts",
    /only an ssh-rsa key for 2001:db8::5/,
  ],
  [{ imagePullTimeoutSeconds: "10" }, "imagePullTimeoutSeconds", /at least 60/],
  ...TLS_BAD,
];
