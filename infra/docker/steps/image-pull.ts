// The image, pulled on the Docker host before anything else changes, with progress and a limit of its own.
// The docker provider would pull a missing image itself, silently and under a 20-minute deadline, which a
// multi-GB WebUI image over a slow link does not meet. An image already on the host is never pulled again.
import { shellQuote } from "../../../lib/shell.js";

export interface ImagePullInput {
  /** The image reference, validated as one by the settings. */
  image: string;
  /** How long the pull may take, in seconds. */
  limitSeconds: number;
  /** The setting that holds the limit, for the message. */
  setting: string;
}

/** Seconds between two progress lines while the pull runs. */
export const PULL_PROGRESS_SECONDS = 15;

/** A POSIX sh fragment (run in its own subshell): present, or pulled with a line of progress every 15 s. */
export function imagePullScript(input: ImagePullInput): string {
  if (!Number.isInteger(input.limitSeconds) || input.limitSeconds < 1) throw new Error(`image pull: "${input.limitSeconds}" is not a limit in seconds`);
  if (!/^[A-Za-z0-9][A-Za-z0-9._/:@-]*$/.test(input.image)) throw new Error(`image pull: "${input.image}" is not an image reference`);
  const image = shellQuote(input.image);
  return `set -u
image=${image}
limit=${input.limitSeconds}
if ! command -v docker >/dev/null 2>&1; then
  echo "sdwebui preflight: the docker CLI is not on this host's PATH, so $image is left to the Docker provider to pull (no progress shown)"
  exit 0
fi
if docker image inspect "$image" >/dev/null 2>&1; then echo "image $image is on this host"; exit 0; fi
echo "sdwebui preflight: pulling $image (limit \${limit}s)"
start=$(date +%s)
docker pull "$image" &
pid=$!
next=$((start + ${PULL_PROGRESS_SECONDS}))
while kill -0 "$pid" 2>/dev/null; do
  sleep 1
  now=$(date +%s)
  if [ $((now - start)) -ge "$limit" ]; then
    kill "$pid" 2>/dev/null
    echo "sdwebui preflight: pulling $image did not finish within \${limit}s; layers pulled so far stay on the host, so a new pulumi up resumes" >&2
    echo "fix: raise the limit (pulumi config set ${input.setting} <seconds>), or pull it on the host first: docker pull $image" >&2
    exit 1
  fi
  if [ "$now" -ge "$next" ]; then echo "sdwebui preflight: pulling $image: $((now - start))s elapsed (limit \${limit}s)"; next=$((now + ${PULL_PROGRESS_SECONDS})); fi
done
if ! wait "$pid"; then
  echo "sdwebui preflight: docker pull $image failed (its message is above)" >&2
  echo "fix: check the image setting, the registry's address and your login on the host (docker login <registry>)" >&2
  exit 1
fi
echo "pulled $image in $(($(date +%s) - start))s"
`;
}
