// The layer applier on well-formed layers: every entry type and attribute lands as the tar says,
// whiteouts become overlay whiteouts, implicit parents copy lower attributes, and it is fast.
import assert from "node:assert/strict";
import fsp from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { applyLayer } from "../../../../src/images/unpack/apply.js";
import { buildTar, getXattr, sha256, streamOf, T0, tempDir, type E } from "../../../fixtures/layer-kit.js";

const T1 = new Date("2021-05-06T07:08:09Z");
const secs = (d: Date): number => d.getTime();
const major = (rdev: number): number => ((rdev >> 8) & 0xfff) | ((rdev >>> 32) & ~0xfff);
const minor = (rdev: number): number => (rdev & 0xff) | ((rdev >> 12) & 0xfff00);

// vfs_cap_data v2 with cap_setuid (7) and cap_net_bind_service (10) permitted+effective: the
// 0x80 byte is not valid UTF-8, so this only survives if PAX values are kept as bytes.
const CAP = Buffer.from("0100000280040000000000000000000000000000", "hex");
const CAP_PLACEHOLDER = "C".repeat(CAP.length);

test("applies files, dirs, symlinks, hardlinks, devices, owners, modes, xattrs and times", async (t) => {
  const root = path.join(await tempDir(t), "layer");
  const entries: E[] = [
    { name: "etc/", type: "directory", mode: 0o755, mtime: T1 },
    { name: "etc/hostname", data: "box\n", mode: 0o644, uid: 1000, gid: 1001, mtime: T1 },
    { name: "usr/", type: "directory" },
    { name: "usr/bin/", type: "directory", mode: 0o755, uid: 2, gid: 3 },
    { name: "usr/bin/su", data: "#!su\n", mode: 0o4755 },
    { name: "usr/bin/wall", data: "#!wall\n", mode: 0o2755, gid: 5 },
    { name: "usr/bin/ping", data: "#!ping\n", mode: 0o755, pax: { "SCHILY.xattr.security.capability": CAP_PLACEHOLDER } },
    { name: "usr/bin/tagged", data: "x", pax: { "SCHILY.xattr.user.note": "hello" } },
    { name: "tmp/", type: "directory", mode: 0o1777, mtime: T0 },
    { name: "usr/bin/sh", type: "symlink", linkname: "/bin/busybox", uid: 7, gid: 8, mtime: T1 },
    { name: "usr/bin/wall2", type: "link", linkname: "usr/bin/wall", mode: 0o2755, gid: 5 },
    { name: "dev/", type: "directory" },
    { name: "dev/null", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666 },
    { name: "dev/loop0", type: "block-device", devmajor: 7, devminor: 0, mode: 0o660, gid: 6 },
    { name: "run/initctl", type: "fifo", mode: 0o600 },
    { name: "./", type: "directory", mode: 0o700 }, // resolves to the root: ignored
  ];
  const tarball = await buildTar(entries, [[CAP_PLACEHOLDER, CAP]]);
  const res = await applyLayer(streamOf(tarball, 1000), { root, lowers: [] });
  assert.deepEqual(
    { diffId: res.diffId, size: res.size, entries: res.entries, inodes: res.inodes },
    { diffId: sha256(tarball), size: tarball.length, entries: 16, inodes: 15 },
    "the root entry counts as an entry, not an inode; usr/bin/wall2 (a hard link) and run/ (an implicit parent) make one",
  );

  const st = async (p: string) => fsp.lstat(path.join(root, p));
  const hn = await st("etc/hostname");
  assert.deepEqual([hn.mode & 0o7777, hn.uid, hn.gid, hn.mtimeMs], [0o644, 1000, 1001, secs(T1)]);
  assert.equal(await fsp.readFile(path.join(root, "etc/hostname"), "utf8"), "box\n");
  assert.equal((await st("usr/bin/su")).mode & 0o7777, 0o4755, "setuid kept (chmod after chown)");
  const wall = await st("usr/bin/wall");
  assert.deepEqual([wall.mode & 0o7777, wall.gid, wall.nlink], [0o2755, 5, 2]);
  assert.equal((await st("usr/bin/wall2")).ino, wall.ino, "hardlink shares the inode");
  assert.deepEqual(await getXattr(path.join(root, "usr/bin/ping"), "security.capability"), CAP);
  assert.deepEqual(await getXattr(path.join(root, "usr/bin/tagged"), "user.note"), Buffer.from("hello"));
  const sh = await st("usr/bin/sh");
  assert.ok(sh.isSymbolicLink());
  assert.equal(await fsp.readlink(path.join(root, "usr/bin/sh")), "/bin/busybox");
  assert.deepEqual([sh.uid, sh.gid, sh.mtimeMs], [7, 8, secs(T1)]);
  const bin = await st("usr/bin");
  assert.deepEqual([bin.uid, bin.gid, bin.mtimeMs], [2, 3, secs(T0)], "directory times are set after its children");
  assert.equal((await st("etc")).mtimeMs, secs(T1));
  const tmp = await st("tmp");
  assert.equal(tmp.mode & 0o7777, 0o1777);
  const nul = await st("dev/null");
  assert.ok(nul.isCharacterDevice());
  assert.deepEqual([major(nul.rdev), minor(nul.rdev), nul.mode & 0o7777], [1, 3, 0o666]);
  const loop = await st("dev/loop0");
  assert.ok(loop.isBlockDevice());
  assert.deepEqual([major(loop.rdev), minor(loop.rdev), loop.gid], [7, 0, 6]);
  assert.ok((await st("run/initctl")).isFIFO());
  assert.equal((await st("run")).mode & 0o7777, 0o755, "implicit parent without a lower: 0755");
  assert.notEqual((await st("")).mode & 0o7777, 0o700, "the ./ entry does not touch the root");
});

test("implicit parents copy mode, owner and times from the topmost lower that has them", async (t) => {
  const base = await tempDir(t);
  const l1 = path.join(base, "l1");
  const l2 = path.join(base, "l2");
  const up = path.join(base, "up");
  await applyLayer(
    streamOf(
      await buildTar([
        { name: "tmp/", type: "directory", mode: 0o1777, mtime: T0 },
        { name: "opt/", type: "directory" },
        { name: "opt/app/", type: "directory", mode: 0o750, uid: 1000, gid: 1000, mtime: T0 },
        { name: "srv", data: "a file here" },
        { name: "usr/", type: "directory" },
        { name: "usr/lib/", type: "directory", mode: 0o711, uid: 4 },
        { name: "lib", type: "symlink", linkname: "usr/lib" },
      ]),
    ),
    { root: l1, lowers: [] },
  );
  await applyLayer(
    streamOf(await buildTar([{ name: "opt/app/", type: "directory", mode: 0o700, uid: 33, gid: 33, mtime: T1 }])),
    { root: l2, lowers: [l1] },
  );
  await applyLayer(
    streamOf(
      await buildTar([
        { name: "tmp/x", data: "x" },
        { name: "opt/app/y", data: "y" },
        { name: "srv/z", data: "z" },
        { name: "lib/w", data: "w" },
        { name: "new/dir/v", data: "v" },
      ]),
    ),
    { root: up, lowers: [l2, l1] },
  );
  const st = async (p: string) => fsp.lstat(path.join(up, p));
  const tmp = await st("tmp");
  assert.deepEqual([tmp.mode & 0o7777, tmp.mtimeMs], [0o1777, secs(T0)]);
  const app = await st("opt/app");
  assert.deepEqual([app.mode & 0o7777, app.uid, app.gid, app.mtimeMs], [0o700, 33, 33, secs(T1)], "topmost lower wins");
  assert.equal((await st("srv")).mode & 0o7777, 0o755, "a lower file at that path gives no attributes");
  // lib -> usr/lib in l1: lib/w lands in usr/lib/w (the merged view's path), and lib itself is
  // left alone so the lower symlink stays visible; usr and usr/lib copy l1's attributes.
  assert.equal(await fsp.lstat(path.join(up, "lib")).catch(() => null), null, "no lib/ directory hides the lower symlink");
  const usrLib = await st("usr/lib");
  assert.deepEqual([usrLib.mode & 0o7777, usrLib.uid], [0o711, 4]);
  assert.equal(await fsp.readFile(path.join(up, "usr/lib/w"), "utf8"), "w");
  assert.deepEqual([(await st("new")).mode & 0o7777, (await st("new/dir")).uid], [0o755, 0]);
});

test("replacement rules: dirs keep and take new attributes, anything else is replaced", async (t) => {
  const root = await tempDir(t);
  await applyLayer(
    streamOf(
      await buildTar([
        { name: "d/", type: "directory", mode: 0o755 },
        { name: "d/f", data: "kept" },
        { name: "d/", type: "directory", mode: 0o700, uid: 5 },
        { name: "f", data: "first" },
        { name: "f", data: "second" },
        { name: "x/", type: "directory" },
        { name: "x/inner", data: "gone" },
        { name: "x", data: "now a file" },
        { name: "y", data: "a file" },
        { name: "y/", type: "directory", mode: 0o711 },
        { name: "s", type: "symlink", linkname: "f" },
        { name: "s", data: "replaces the symlink" },
        { name: "a", data: "same-layer file" },
        { name: ".wh.a" },
        { name: ".wh.b" },
        { name: "b", data: "same-layer file after its whiteout" },
      ]),
    ),
    { root, lowers: [] },
  );
  const d = await fsp.lstat(path.join(root, "d"));
  assert.deepEqual([d.mode & 0o7777, d.uid], [0o700, 5]);
  assert.equal(await fsp.readFile(path.join(root, "d/f"), "utf8"), "kept");
  assert.equal(await fsp.readFile(path.join(root, "f"), "utf8"), "second");
  assert.equal(await fsp.readFile(path.join(root, "x"), "utf8"), "now a file");
  assert.equal((await fsp.lstat(path.join(root, "y"))).mode & 0o7777, 0o711);
  assert.equal(await fsp.readFile(path.join(root, "s"), "utf8"), "replaces the symlink");
  assert.equal(await fsp.readFile(path.join(root, "f"), "utf8"), "second", "the symlink's target was not written");
  assert.equal(await fsp.readFile(path.join(root, "a"), "utf8"), "same-layer file");
  assert.equal(await fsp.readFile(path.join(root, "b"), "utf8"), "same-layer file after its whiteout");
  assert.deepEqual((await fsp.readdir(root)).sort(), ["a", "b", "d", "f", "s", "x", "y"]);
});

test("owners survive set-group-ID dirs; times of a re-made directory are the new entry's", async (t) => {
  const root = await tempDir(t);
  await applyLayer(
    streamOf(
      await buildTar([
        { name: "g/", type: "directory", mode: 0o2775, gid: 50 },
        { name: "g/root-owned", data: "x" },
        { name: "g/h/", type: "directory", mode: 0o755 },
        { name: "g/h/also", data: "y" },
        { name: "d/", type: "directory", mtime: T1 },
        { name: "d", data: "a file now" },
        { name: "d/", type: "directory", mtime: T0 },
        { name: "d/child", data: "c" },
      ]),
    ),
    { root, lowers: [] },
  );
  const st = async (p: string) => fsp.lstat(path.join(root, p));
  assert.equal((await st("g")).gid, 50);
  assert.deepEqual([(await st("g/root-owned")).uid, (await st("g/root-owned")).gid], [0, 0], "not the set-group-ID dir's group");
  assert.equal((await st("g/h/also")).gid, 0);
  assert.equal((await st("d")).mtimeMs, secs(T0));
});

test("whiteouts become char 0/0 devices and opaque dirs get trusted.overlay.opaque", async (t) => {
  const root = await tempDir(t);
  await applyLayer(
    streamOf(
      await buildTar([
        { name: "etc/.wh.motd", uid: 3, gid: 4 },
        { name: "etc/.wh.issue" },
        { name: "var/cache/.wh..wh..opq" },
        { name: "var/cache/new", data: "n" },
      ]),
    ),
    { root, lowers: [] },
  );
  const wh = await fsp.lstat(path.join(root, "etc/motd"));
  assert.ok(wh.isCharacterDevice());
  assert.equal(wh.rdev, 0);
  // One mknod per layer: later whiteouts are hard links to the first (their owner is not kept:
  // overlayfs ignores it and hides the whiteout itself).
  assert.equal((await fsp.lstat(path.join(root, "etc/issue"))).ino, wh.ino);
  assert.deepEqual(await getXattr(path.join(root, "var/cache"), "trusted.overlay.opaque"), Buffer.from("y"));
  assert.deepEqual((await fsp.readdir(path.join(root, "etc"))).sort(), ["issue", "motd"], "no .wh. file is written");
  assert.deepEqual((await fsp.readdir(path.join(root, "var/cache"))).sort(), ["new"]);
});

test("large files stream to disk; a non-empty root is walked with lstat", async (t) => {
  const root = await tempDir(t);
  await fsp.mkdir(path.join(root, "pre"));
  await fsp.symlink("pre", path.join(root, "link"));
  const big = Buffer.alloc(3 * 1024 * 1024 + 7);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
  const tarball = await buildTar([
    { name: "big.bin", data: big },
    { name: "link/inside", data: "through an in-root symlink" },
  ]);
  const res = await applyLayer(streamOf(tarball), { root, lowers: [] });
  assert.equal(res.size, tarball.length);
  assert.ok((await fsp.readFile(path.join(root, "big.bin"))).equals(big));
  assert.equal(await fsp.readFile(path.join(root, "pre/inside"), "utf8"), "through an in-root symlink");
});

// How fast (beside GNU tar, on a tmpfs) is measured by bench/unpack.ts; here only what lands.
test("10,000 small files in 100 directories all land with their content", async (t) => {
  const entries: E[] = [];
  for (let d = 0; d < 100; d++) {
    entries.push({ name: `usr/share/d${d}/`, type: "directory" });
    for (let f = 0; f < 100; f++) entries.push({ name: `usr/share/d${d}/file${f}.txt`, data: `content ${d}/${f}\n`.repeat(20) });
  }
  const root = path.join(await tempDir(t), "layer");
  await applyLayer(streamOf(await buildTar(entries)), { root, lowers: [] });
  assert.equal((await fsp.readdir(path.join(root, "usr/share/d99"))).length, 100);
  assert.equal(await fsp.readFile(path.join(root, "usr/share/d42/file7.txt"), "utf8"), "content 42/7\n".repeat(20));
});
