// Whether a process holds a given file open, from /proc/<pid>/fd (each link stat'ed, which works
// for renamed and deleted files too): how Berth tells conmon's log file from any other.
import { readdir, stat } from "node:fs/promises";

/** The file's identity (device and inode), undefined when nothing is at path. */
export async function fileIdentity(path: string): Promise<{ dev: bigint; ino: bigint } | undefined> {
  try {
    const st = await stat(path, { bigint: true });
    return { dev: st.dev, ino: st.ino };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** True when pid has the file (dev, ino) open; false when it has not or is gone. */
export async function holdsOpen(pid: number, file: { dev: bigint; ino: bigint }): Promise<boolean> {
  const names = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  for (const n of names) {
    const id = await fileIdentity(`/proc/${pid}/fd/${n}`).catch(() => undefined);
    if (id && id.dev === file.dev && id.ino === file.ino) return true;
  }
  return false;
}
