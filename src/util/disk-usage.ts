// Disk usage of a directory tree the way du counts it: allocated blocks, each inode once (hard
// links share one), for ImageFsInfo and container stats. Async lstat keeps the event loop free.
import fs from "node:fs/promises";
import { join } from "node:path";

export interface Usage {
  bytes: number;
  inodes: number;
}

export async function diskUsage(root: string): Promise<Usage> {
  const seen = new Set<bigint>();
  let bytes = 0;
  let inodes = 0;
  const visit = async (path: string): Promise<void> => {
    let st;
    try {
      st = await fs.lstat(path, { bigint: true });
    } catch {
      return; // removed while walking
    }
    if (st.nlink > 1n) {
      if (seen.has(st.ino)) return;
      seen.add(st.ino);
    }
    inodes++;
    bytes += Number(st.blocks) * 512;
    if (!st.isDirectory()) return;
    let names: string[];
    try {
      names = await fs.readdir(path);
    } catch {
      return;
    }
    for (const n of names) await visit(join(path, n));
  };
  await visit(root);
  return { bytes, inodes };
}
