// Making writes survive a crash or power loss: fsync a file's bytes, the directory entry a rename
// made, or a whole filesystem (syncfs via coreutils `sync -f`) after a layer is unpacked.
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Writes a new file (exclusive create), fsynced when `sync`. */
export async function writeDurably(path: string, bytes: Buffer, sync: boolean): Promise<void> {
  const fh = await fs.open(path, "wx", 0o600);
  try {
    await fh.writeFile(bytes);
    if (sync) await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsyncs a directory, so an entry just created or renamed in it survives a crash. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Flushes the filesystem holding `path` (syncfs(2)): every file a layer unpack wrote, in one call. */
export async function syncFilesystem(path: string): Promise<void> {
  await run("sync", ["-f", path]);
}
