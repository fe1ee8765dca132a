// The two things Node cannot do itself during unpack — mknod(2) and setxattr(2) — done by
// spawning helpers a few times per layer: mknod (coreutils) for the whiteout template, one
// `tar -x` for the layer's device nodes, one `setfattr --restore` (Debian attr) for its xattrs.
import { execFileSync } from "node:child_process";
import { internal } from "../../errors.js";
import { nodesTar, type NodeToMake } from "./nodes.js";

let spawned = 0;

/** Helper processes started by this thread so far (the applier reports the difference per layer). */
export function spawnCount(): number {
  return spawned;
}

function run(cmd: string, args: string[], input?: Buffer): void {
  spawned++;
  try {
    execFileSync(cmd, args, { timeout: 120_000, stdio: [input ? "pipe" : "ignore", "ignore", "pipe"], ...(input ? { input } : {}), maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? "").trim();
    throw Object.assign(internal(`${cmd} ${args.join(" ")} failed: ${stderr.slice(0, 2000) || String(err)}`, err), { stderr });
  }
}

export type NodeType = "c" | "b" | "p";

/** mknod PATH TYPE [MAJOR MINOR]; never follows a symlink at PATH (mknod(2) fails if it exists). */
export function mknod(path: string, type: NodeType, major = 0, minor = 0): void {
  const args = ["--", path, type];
  if (type !== "p") args.push(String(major), String(minor));
  run("mknod", args);
}

/**
 * Makes every node under `root` with one tar process (mode 0600, owner root: the caller sets
 * the real attributes). The parents exist, so it creates nothing else; --keep-old-files makes it
 * fail rather than replace anything.
 */
export function makeNodes(root: string, nodes: readonly NodeToMake[]): void {
  if (nodes.length === 0) return;
  run("tar", ["-x", "-f", "-", "-C", root, "--keep-old-files", "--no-same-owner"], nodesTar(nodes));
}

/**
 * One byte string in getfattr's dump syntax: bytes outside printable ASCII, "\", "=" and
 * whitespace as 3-digit octal escapes, which setfattr --restore undoes (names and paths alike).
 */
export function dumpQuote(s: string | Buffer): string {
  const b = typeof s === "string" ? Buffer.from(s) : s;
  let out = "";
  for (const c of b) {
    out += c <= 0x20 || c >= 0x7f || c === 0x5c || c === 0x3d ? `\\${c.toString(8).padStart(3, "0")}` : String.fromCharCode(c);
  }
  return out;
}

/** xattrs to set, by absolute path: values are raw bytes. */
export type XattrBatch = ReadonlyArray<readonly [path: string, xattrs: ReadonlyArray<readonly [string, Buffer]>]>;

/**
 * Sets every xattr of the batch with one `setfattr -h --restore=-` (-h: a symlink itself, never
 * its target). Returns the paths and names the filesystem refused as unsupported (ENOTSUP,
 * EPERM: containerd ignores those too); any other failure throws.
 */
export function restoreXattrs(batch: XattrBatch): string[] {
  if (batch.length === 0) return [];
  const lines: string[] = [];
  for (const [path, xattrs] of batch) {
    lines.push(`# file: ${dumpQuote(path)}`);
    for (const [name, value] of xattrs) lines.push(`${dumpQuote(name)}=0s${value.toString("base64")}`);
    lines.push("");
  }
  try {
    run("setfattr", ["-h", "--restore=-"], Buffer.from(lines.join("\n") + "\n"));
    return [];
  } catch (err) {
    const stderr = (err as { stderr?: unknown }).stderr;
    const msgs = typeof stderr === "string" ? stderr.split("\n").filter((l) => l.trim() !== "") : [];
    if (msgs.length === 0 || !msgs.every((l) => UNSUPPORTED.test(l))) throw err;
    return msgs;
  }
}

const UNSUPPORTED = /Operation not (supported|permitted)$/;
