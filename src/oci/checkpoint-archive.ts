// The checkpoint archive CRI-O and containerd write (and their restore tooling reads): CRIU images
// under checkpoint/, config.dump, spec.dump, rootfs-diff.tar of the upper dir, dump.log; one tar.
import { spawn } from "node:child_process";
import { rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { internal } from "../errors.js";

/** What the archive's metadata files hold (CRI-O's checkpointctl reads these names). */
export interface CheckpointMeta {
  /** config.dump: the container's identity (id, name, image, pod, created time). */
  config: Record<string, unknown>;
  /** spec.dump: the OCI runtime spec the container ran with. */
  spec: unknown;
}

/** The file names inside an archive, as CRI-O's lib/checkpoint and containerd's cri plugin use them. */
export const ARCHIVE_LAYOUT = {
  images: "checkpoint",
  config: "config.dump",
  spec: "spec.dump",
  rootfsDiff: "rootfs-diff.tar",
  dumpLog: "dump.log",
} as const;

function tar(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("tar", args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      if (err.length < 8192) err += d.toString("utf8");
    });
    child.on("error", (e) => reject(internal(`cannot run tar: ${e.message}`, e)));
    child.on("close", (code) => (code === 0 ? resolve() : reject(internal(`tar ${args.join(" ")} failed (exit ${code}): ${err.trim()}`))));
  });
}

/**
 * Fills `work` (which holds CRIU's images in checkpoint/ and, when runc wrote one, dump.log) with the
 * metadata and the rootfs diff, then writes it as one tar at `location` (through a temporary file, so
 * a failure leaves no half archive). `upper`: the container's overlay upper dir, or undefined for none.
 */
export async function writeCheckpointArchive(work: string, upper: string | undefined, meta: CheckpointMeta, location: string): Promise<void> {
  await writeFile(join(work, ARCHIVE_LAYOUT.config), JSON.stringify(meta.config, null, 2));
  await writeFile(join(work, ARCHIVE_LAYOUT.spec), JSON.stringify(meta.spec, null, 2));
  if (upper !== undefined && (await stat(upper).catch(() => undefined))?.isDirectory()) {
    await tar(["-C", upper, "--numeric-owner", "--xattrs", "-cf", join(work, ARCHIVE_LAYOUT.rootfsDiff), "."]);
  }
  const tmp = `${location}.berth-tmp`;
  try {
    await tar(["-C", work, "--numeric-owner", "-cf", tmp, "."]);
    await rename(tmp, location);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
