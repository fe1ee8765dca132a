// Reads a small file the node's admin placed (a seccomp Localhost profile) without ever opening
// what is not a regular file: a FIFO would block, a device node would act (a watchdog reboots).
import { constants } from "node:fs";
import { open, stat } from "node:fs/promises";
import { describe, invalid } from "../../errors.js";
import { fileKind } from "../rootfs/in-root.js";

/**
 * The text of the regular file at `path` (symlinks followed: the node's own tree), at most
 * `max` bytes. `what` names the request field in errors; every failure is InvalidArgument.
 */
export async function readRegularFile(path: string, max: number, what: string): Promise<string> {
  let before;
  try {
    before = await stat(path);
  } catch (err) {
    throw invalid(`${what}: cannot read ${path}: ${describe(err)}`);
  }
  if (!before.isFile()) throw invalid(`${what}: ${path} is ${fileKind(before)}, not a regular file; name a JSON file`);
  if (before.size > max) throw invalid(`${what}: ${path} is ${before.size} bytes; at most ${max} are read`);
  let fh;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    throw invalid(`${what}: cannot read ${path}: ${describe(err)}`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.ino !== before.ino || st.dev !== before.dev) throw invalid(`${what}: ${path} changed while it was read; try again`);
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    for (;;) {
      const r = await fh.read(buf, n, buf.length - n, n);
      if (r.bytesRead === 0) break;
      n += r.bytesRead;
      if (n > max) throw invalid(`${what}: ${path} is larger than ${max} bytes`);
    }
    return buf.subarray(0, n).toString("utf8");
  } finally {
    await fh.close();
  }
}
