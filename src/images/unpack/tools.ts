// The two things Node cannot do itself during unpack — mknod(2) and setxattr(2) — done by
// spawning mknod (coreutils) and setfattr (Debian attr); only for rare entries, never per file.
import { execFileSync } from "node:child_process";
import { internal } from "../../errors.js";

function run(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { timeout: 30_000, stdio: ["ignore", "ignore", "pipe"] });
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? "").trim();
    throw Object.assign(internal(`${cmd} ${args.join(" ")} failed: ${stderr || String(err)}`, err), { stderr });
  }
}

export type NodeType = "c" | "b" | "p";

/** mknod PATH TYPE [MAJOR MINOR]; never follows a symlink at PATH (mknod(2) fails if it exists). */
export function mknod(path: string, type: NodeType, major = 0, minor = 0): void {
  const args = ["--", path, type];
  if (type !== "p") args.push(String(major), String(minor));
  run("mknod", args);
}

/** Sets one xattr on PATH itself (-h: a symlink is not followed), binary-safe via base64. */
export function setXattr(path: string, name: string, value: Buffer): void {
  const v = value.length === 0 ? [] : [`--value=0s${value.toString("base64")}`];
  run("setfattr", ["-h", "-n", name, ...v, "--", path]);
}

/** True when setfattr failed because the filesystem or inode type refuses that xattr. */
export function isXattrUnsupported(err: unknown): boolean {
  const stderr = (err as { stderr?: unknown } | null)?.stderr;
  return typeof stderr === "string" && /Operation not (supported|permitted)/.test(stderr);
}
