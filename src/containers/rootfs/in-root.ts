// Paths inside a container's root filesystem resolved the way the container would see them:
// symlinks (absolute or relative) are followed but can never lead out of the root.
import { constants, type Stats } from "node:fs";
import { lstat, open, readlink } from "node:fs/promises";
import { join } from "node:path";
import { invalid } from "../../errors.js";

const MAX_LINKS = 40;

/**
 * The host path that `path` (absolute, as inside the container) names under `root`, every
 * symlink resolved with `root` as "/" and ".." stopping at it; undefined when it does not exist.
 */
export async function resolveInRoot(root: string, path: string): Promise<string | undefined> {
  const pending = path.split("/").filter((s) => s !== "" && s !== ".");
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const seg = pending.shift()!;
    if (seg === "..") {
      done.pop();
      continue;
    }
    const host = join(root, ...done, seg);
    let st;
    try {
      st = await lstat(host);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT" || (err as NodeJS.ErrnoException).code === "ENOTDIR") return undefined;
      throw err;
    }
    if (!st.isSymbolicLink()) {
      done.push(seg);
      continue;
    }
    if (++links > MAX_LINKS) throw invalid(`${path} in the image: too many levels of symbolic links`);
    const target = await readlink(host);
    if (target.startsWith("/")) done.length = 0;
    pending.unshift(...target.split("/").filter((s) => s !== "" && s !== "."));
  }
  return join(root, ...done);
}

/** What a non-regular file is, for error messages. */
export function fileKind(st: Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isFIFO()) return "a FIFO";
  if (st.isSocket()) return "a socket";
  if (st.isSymbolicLink()) return "a symbolic link";
  return "not a regular file";
}

/**
 * A regular file inside the root, read up to `max` bytes (more is an error); undefined when it
 * does not exist. Its type and size are checked with lstat before it is opened: opening a
 * device node the image ships would open the host's device (a watchdog reboots the node), a
 * FIFO would block. The open uses O_NOFOLLOW and the opened file must be the one checked.
 */
export async function readFileInRoot(root: string, path: string, max: number): Promise<string | undefined> {
  const host = await resolveInRoot(root, path);
  if (host === undefined) return undefined;
  let before: Stats;
  try {
    before = await lstat(host);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw invalid(`${path} in the image cannot be read: ${(err as Error).message}`);
  }
  if (!before.isFile()) throw invalid(`${path} in the image is ${fileKind(before)}, not a regular file; the image must ship it as a regular file or not at all`);
  if (before.size > max) throw invalid(`${path} in the image is ${before.size} bytes; at most ${max} are read`);
  let fh;
  try {
    fh = await open(host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw invalid(`${path} in the image cannot be read: ${(err as Error).message}`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.ino !== before.ino || st.dev !== before.dev) throw invalid(`${path} in the image changed while it was read; try again`);
    if (st.size > max) throw invalid(`${path} in the image is ${st.size} bytes; at most ${max} are read`);
    const buf = Buffer.alloc(Math.min(max + 1, st.size + 1));
    let n = 0;
    for (;;) {
      const r = await fh.read(buf, n, buf.length - n, n);
      if (r.bytesRead === 0) break;
      n += r.bytesRead;
      if (n >= buf.length) break;
    }
    if (n > max) throw invalid(`${path} in the image is larger than ${max} bytes`);
    return buf.subarray(0, n).toString("utf8");
  } finally {
    await fh.close();
  }
}
