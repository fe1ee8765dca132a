// Making writes survive a crash or power loss: whole-file replacement by temp file + rename, fsync of
// a file's bytes and of the directory entry a rename made, or syncfs after a layer is unpacked.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import { basename, dirname, join } from "node:path";
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

/**
 * Replaces `path` whole: written to a temp name beside it, renamed over it, so readers (a restarted
 * daemon, a container bind-mounting resolv.conf) never see half a file. With `fsync`, the bytes and
 * the rename are on disk before this returns (crash durability); a failure removes the temp file.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: { mode?: number; fsync?: boolean } = {}): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await fs.writeFile(tmp, data, { mode: opts.mode ?? 0o644, flush: opts.fsync === true });
    await fs.rename(tmp, path);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  if (opts.fsync) await syncDir(dirname(path));
}
