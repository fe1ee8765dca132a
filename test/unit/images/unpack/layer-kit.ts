// Test kit for the layer applier: builds layer tars with tar-stream's pack, makes temp dirs
// that are always removed, and snapshots a sentinel tree to prove nothing outside a root changed.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import type { TestContext } from "node:test";
import assert from "node:assert/strict";
import tar, { type Header } from "tar-stream";

export interface E {
  name: string;
  type?: Header["type"];
  data?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
}

export const T0 = new Date("2020-01-02T03:04:05Z");

/**
 * A tar of entries. tar-stream writes PAX values as UTF-8 text, so binary values (xattrs) are
 * written as an ASCII placeholder of the same length and patched in the bytes afterwards.
 */
export async function buildTar(entries: E[], binary: [placeholder: string, value: Buffer][] = []): Promise<Buffer> {
  const p = tar.pack();
  const out: Buffer[] = [];
  const collected = (async () => {
    for await (const c of p) out.push(c as Buffer);
  })();
  for (const e of entries) {
    const type = e.type ?? "file";
    const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(e.data);
    const h: Partial<Header> & { name: string } = {
      name: e.name,
      type,
      mode: e.mode ?? (type === "directory" ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: e.mtime ?? T0,
      size: type === "file" ? data.length : 0,
    };
    if (e.linkname !== undefined) h.linkname = e.linkname;
    if (e.devmajor !== undefined) h.devmajor = e.devmajor;
    if (e.devminor !== undefined) h.devminor = e.devminor;
    if (e.pax) h.pax = e.pax;
    await new Promise<void>((resolve, reject) =>
      type === "file" ? p.entry(h, data, (err) => (err ? reject(err) : resolve())) : p.entry(h, (err) => (err ? reject(err) : resolve())),
    );
  }
  p.finalize();
  await collected;
  const buf = Buffer.concat(out);
  for (const [placeholder, value] of binary) {
    assert.equal(Buffer.byteLength(placeholder), value.length, "placeholder and value must have the same length");
    const at = buf.indexOf(placeholder);
    assert.ok(at >= 0, `placeholder ${placeholder} not in the tar`);
    value.copy(buf, at);
  }
  return buf;
}

export function streamOf(buf: Buffer, chunk = 64 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < buf.length; i += chunk) yield buf.subarray(i, i + chunk);
    })(),
  );
}

export function sha256(buf: Buffer): string {
  return "sha256:" + createHash("sha256").update(buf).digest("hex");
}

export async function tempDir(t: TestContext, prefix = "berth-unpack-"): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), prefix));
  t.after(() => fsp.rm(dir, { recursive: true, force: true }));
  return dir;
}

export function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { encoding: "utf8" }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(" ")}: ${stderr || err.message}`)) : resolve(stdout),
    ),
  );
}

/** `getfattr` of one xattr as bytes, or null if absent. */
export async function getXattr(file: string, name: string): Promise<Buffer | null> {
  try {
    const out = await run("getfattr", ["-h", "--absolute-names", "-e", "base64", "-n", name, "--", file]);
    const m = /=0s(.*)$/m.exec(out);
    return m?.[1] !== undefined ? Buffer.from(m[1], "base64") : Buffer.alloc(0);
  } catch {
    return null;
  }
}

/** Everything observable about a tree: names, types, modes, owners, sizes, times, links, contents, xattrs. */
export async function snapshot(dir: string): Promise<string> {
  const lines: string[] = [];
  async function walk(p: string): Promise<void> {
    const st = await fsp.lstat(p);
    let extra = "";
    if (st.isSymbolicLink()) extra = "-> " + (await fsp.readlink(p));
    else if (st.isFile()) extra = createHash("sha256").update(await fsp.readFile(p)).digest("hex");
    lines.push([path.relative(dir, p) || ".", st.mode.toString(8), st.uid, st.gid, st.size, st.nlink, st.mtimeMs, extra].join(" "));
    if (st.isDirectory()) for (const n of (await fsp.readdir(p)).sort()) await walk(path.join(p, n));
  }
  await walk(dir);
  lines.push(await run("getfattr", ["-R", "-h", "-d", "-m", "-", "--absolute-names", dir]).catch(() => ""));
  return lines.join("\n");
}

/**
 * A base dir holding `root` (the layer dir) and `sentinel` (a host tree the layer must never
 * touch). check() asserts that the sentinel, the base dir's listing and /etc/passwd are unchanged.
 */
export async function sentinelSetup(t: TestContext): Promise<{ base: string; root: string; sentinel: string; check(): Promise<void> }> {
  const base = await tempDir(t, "berth-hostile-");
  const root = path.join(base, "root");
  const sentinel = path.join(base, "sentinel");
  await fsp.mkdir(root);
  await fsp.mkdir(path.join(sentinel, "sub"), { recursive: true });
  await fsp.writeFile(path.join(sentinel, "keep"), "precious\n", { mode: 0o600 });
  await fsp.writeFile(path.join(sentinel, "sub", "file"), "also precious\n");
  const before = await snapshot(sentinel);
  const passwd = await fsp.lstat("/etc/passwd");
  return {
    base,
    root,
    sentinel,
    async check(): Promise<void> {
      assert.equal(await snapshot(sentinel), before, "the sentinel outside the layer root changed");
      assert.deepEqual((await fsp.readdir(base)).sort(), ["root", "sentinel"], "something was created beside the layer root");
      const now = await fsp.lstat("/etc/passwd");
      assert.deepEqual([now.nlink, now.mtimeMs, now.size, now.mode], [passwd.nlink, passwd.mtimeMs, passwd.size, passwd.mode]);
    },
  };
}
