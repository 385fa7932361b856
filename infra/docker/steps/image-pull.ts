// The image, pulled on the Docker host before anything else changes, with progress and a limit of its own.
// The docker provider would pull a missing image itself, silently and under a 20-minute deadline, which a
// multi-GB WebUI image over a slow link does not meet. An image already on the host is never pulled again
// (image-pull.sh).
import { hostScript } from "./host-script.js";

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

/** image-pull.sh with its inputs, checked again here (run in its own subshell of the preflight). */
export function imagePullScript(input: ImagePullInput): string {
  if (!Number.isInteger(input.limitSeconds) || input.limitSeconds < 1)
    throw new Error(`image pull: "${input.limitSeconds}" is not a limit in seconds`);
  if (!/^[A-Za-z0-9][A-Za-z0-9._/:@-]*$/.test(input.image))
    throw new Error(`image pull: "${input.image}" is not an image reference`);
  return hostScript("image-pull.sh", [input.image, input.limitSeconds, input.setting, PULL_PROGRESS_SECONDS]);
}
