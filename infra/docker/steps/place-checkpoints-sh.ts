// The names place-checkpoints.sh gives its files, for the placement step and the tests that look for them.
// Downloads and their temporary files live only in a root-owned 0700 staging folder inside the target folder.

/** The staging folder's name inside each target folder: hidden, and unreadable to the WebUI's uid. */
export const STAGING_DIR = ".sdwebui-staging";

/** Where a download of NAME with hash SHA is staged, relative to the checkpoints folder (as place() names it). */
export function stagedPartPath(fileName: string, sha256: string): string {
  const slash = fileName.lastIndexOf("/");
  return `${fileName.slice(0, slash + 1)}${STAGING_DIR}/${fileName.slice(slash + 1)}.${sha256}.part`;
}
