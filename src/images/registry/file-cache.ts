// Reads registry configuration files fresh on every pull but parses each only when its mtime,
// ctime or size changed, so edits take effect without a restart at the cost of one stat.
import { readFile, stat } from "node:fs/promises";

interface Entry<T> {
  key: string;
  value: T;
}

export class FileCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  constructor(private readonly parse: (text: string, path: string) => T | Promise<T>) {}

  /** The parsed file, or undefined if it does not exist. */
  async get(path: string): Promise<T | undefined> {
    let st;
    try {
      st = await stat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT" || (err as NodeJS.ErrnoException).code === "ENOTDIR") {
        this.entries.delete(path);
        return undefined;
      }
      throw err;
    }
    const key = `${st.mtimeMs}:${st.ctimeMs}:${st.size}:${st.ino}`;
    const hit = this.entries.get(path);
    if (hit && hit.key === key) return hit.value;
    const value = await this.parse(await readFile(path, "utf8"), path);
    this.entries.set(path, { key, value });
    return value;
  }
}
