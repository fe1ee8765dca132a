// xattrs, whiteouts and device nodes cost a few helper processes per layer, not one per item (the
// apply's spawn count); PAX global headers are ignored; xattrs and device nodes are capped.
import assert from "node:assert/strict";
import fsp from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { applyLayer } from "../../../../src/images/unpack/apply.js";
import { buildTar, getXattr, sentinelSetup, streamOf, tempDir, type E } from "../../../fixtures/layer-kit.js";

/** A PAX global extended header block ('g') carrying `records`, to put in front of a tar. */
function paxGlobal(records: Record<string, string>): Buffer {
  let body = "";
  for (const [k, v] of Object.entries(records)) {
    const rest = ` ${k}=${v}\n`;
    let len = rest.length + 1;
    while (String(len).length + rest.length !== len) len = String(len).length + rest.length;
    body += `${len}${rest}`;
  }
  const data = Buffer.from(body);
  const h = Buffer.alloc(512);
  h.write("pax_global_header", 0);
  h.write("0000644\0", 100);
  h.write("0000000\0", 108);
  h.write("0000000\0", 116);
  h.write(data.length.toString(8).padStart(11, "0") + "\0", 124);
  h.write("00000000000\0", 136);
  h.write("g", 156);
  h.write("ustar\0" + "00", 257);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  return Buffer.concat([h, data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

test("a PAX global header with many xattrs before many entries: ignored, and the layer costs O(1) processes", async (t) => {
  const root = path.join(await tempDir(t), "layer");
  const global: Record<string, string> = {};
  for (let i = 0; i < 1000; i++) global[`SCHILY.xattr.user.g${i}`] = "v";
  const entries: E[] = [{ name: "d/", type: "directory" }];
  for (let i = 0; i < 2000; i++) entries.push({ name: `d/f${i}`, data: "x" });
  for (let i = 0; i < 300; i++) entries.push({ name: `d/t${i}`, data: "t", pax: { "SCHILY.xattr.user.local": `v${i}` } });
  for (let i = 0; i < 300; i++) entries.push({ name: `gone/.wh.w${i}` });
  entries.push({ name: "opq/", type: "directory" }, { name: "opq/.wh..wh..opq" }, { name: "opq/", type: "directory", mode: 0o700 });
  for (let i = 0; i < 100; i++) entries.push({ name: `dev/tty${i}`, type: "character-device", devmajor: 4, devminor: i, mode: 0o620, gid: 5 });
  entries.push({ name: "dev/null", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666, pax: { "SCHILY.xattr.user.dev": "d" } });
  entries.push({ name: "dev/tty7", type: "fifo" }, { name: "dev/gone", type: "block-device", devmajor: 8 }, { name: "dev/gone", data: "now a file" });
  const tarball = Buffer.concat([paxGlobal(global), await buildTar(entries)]);
  const res = await applyLayer(streamOf(tarball), { root, lowers: [] });
  // One mknod for the first whiteout, one tar for every device node, one setfattr for every xattr.
  assert.equal(res.spawns, 3, "processes started for the whole layer");
  const tty9 = await fsp.lstat(path.join(root, "dev/tty9"));
  assert.ok(tty9.isCharacterDevice());
  assert.deepEqual([tty9.rdev, tty9.mode & 0o7777, tty9.gid], [(4 << 8) | 9, 0o620, 5]);
  assert.ok((await fsp.lstat(path.join(root, "dev/tty7"))).isFIFO(), "replaced before it was made");
  assert.equal(await fsp.readFile(path.join(root, "dev/gone"), "utf8"), "now a file");
  assert.deepEqual(await getXattr(path.join(root, "dev/null"), "user.dev"), null, "user.* xattrs on a device are refused by the kernel: a warning");
  assert.ok(res.warnings.some((w) => /xattr not supported here/.test(w)), res.warnings.join("; "));
  assert.ok(res.warnings.some((w) => /PAX global header; ignored/.test(w)), res.warnings.join("; "));
  assert.equal(await getXattr(path.join(root, "d/f7"), "user.g7"), null, "global records are not applied to entries");
  assert.deepEqual(await getXattr(path.join(root, "d/t299"), "user.local"), Buffer.from("v299"));
  const w0 = await fsp.lstat(path.join(root, "gone/w0"));
  const w299 = await fsp.lstat(path.join(root, "gone/w299"));
  assert.ok(w299.isCharacterDevice() && w299.rdev === 0 && w299.ino === w0.ino, "whiteouts are hard links to one 0/0 device");
  assert.deepEqual(await getXattr(path.join(root, "opq"), "trusted.overlay.opaque"), Buffer.from("y"), "kept when the dir entry comes again");
  assert.equal((await fsp.lstat(path.join(root, "opq"))).mode & 0o7777, 0o700);
});

test("xattrs go to the file that is there at the end: a replaced path does not inherit them", async (t) => {
  const root = path.join(await tempDir(t), "layer");
  const tarball = await buildTar([
    { name: "a", data: "old", pax: { "SCHILY.xattr.user.old": "1" } },
    { name: "a", data: "new" },
    { name: "d/", type: "directory", pax: { "SCHILY.xattr.user.dir": "1" } },
    { name: "d/f", data: "f", pax: { "SCHILY.xattr.user.f": "1" } },
    { name: "d", type: "symlink", linkname: "elsewhere" },
    { name: "name with\nnewline=and\\slash", data: "n", pax: { "SCHILY.xattr.user.odd name\\x": "v=w" } },
    { name: "s", type: "symlink", linkname: "a", pax: { "SCHILY.xattr.trusted.link": "L" } },
  ]);
  const res = await applyLayer(streamOf(tarball), { root, lowers: [] });
  assert.equal(await getXattr(path.join(root, "a"), "user.old"), null);
  assert.equal(await fsp.readlink(path.join(root, "d")), "elsewhere");
  assert.deepEqual(await getXattr(path.join(root, "name with\nnewline=and\\slash"), "user.odd name\\x"), Buffer.from("v=w"));
  assert.deepEqual(await getXattr(path.join(root, "s"), "trusted.link"), Buffer.from("L"), "set on the symlink itself");
  assert.equal(await getXattr(path.join(root, "a"), "trusted.link"), null, "not on its target");
  assert.equal(res.spawns, 1);
});

test("a hard link to a device node not made yet makes the nodes first; device numbers are checked", async (t) => {
  const dir = await tempDir(t);
  const root = path.join(dir, "layer");
  const res = await applyLayer(streamOf(await buildTar([
    { name: "a", type: "fifo" },
    { name: "b", type: "character-device", devmajor: 1, devminor: 5 },
    { name: "c", type: "link", linkname: "b" },
    { name: "d", type: "character-device", devmajor: 1, devminor: 7 },
  ])), { root, lowers: [] });
  assert.equal(res.spawns, 2, "one tar before the link, one at the end");
  assert.equal((await fsp.lstat(path.join(root, "c"))).ino, (await fsp.lstat(path.join(root, "b"))).ino);
  assert.ok((await fsp.lstat(path.join(root, "d"))).isCharacterDevice());
  await assert.rejects(
    applyLayer(streamOf(await buildTar([{ name: "x", type: "character-device", devmajor: 4096, devminor: 0 }])), { root: path.join(dir, "bad"), lowers: [] }),
    /layer entry "x": device number 4096:0 is out of range/,
  );
});

test("a device node or xattr queued under a directory later replaced by a symlink out is dropped, not made through it", async (t) => {
  const s = await sentinelSetup(t);
  const res = await applyLayer(streamOf(await buildTar([
    { name: "d/", type: "directory" },
    { name: "d/p", type: "fifo" },
    { name: "d/f", data: "x", pax: { "SCHILY.xattr.user.f": "1" } },
    { name: "d", type: "symlink", linkname: "../sentinel" },
    { name: "e", type: "symlink", linkname: s.sentinel },
    { name: "e/q", type: "fifo" },
  ])), { root: s.root, lowers: [] });
  assert.equal(await fsp.readlink(path.join(s.root, "d")), "../sentinel");
  assert.ok((await fsp.lstat(path.join(s.root, s.sentinel, "q"))).isFIFO(), "through an in-layer symlink: inside the root");
  assert.equal(res.spawns, 1, "one tar for e/q; nothing for the dropped d/p and d/f");
  await s.check();
});

test("xattrs past the per-entry and per-layer caps, and device nodes past the cap, are refused", async (t) => {
  const dir = await tempDir(t);
  const many: Record<string, string> = {};
  for (let i = 0; i < 129; i++) many[`SCHILY.xattr.user.x${i}`] = "v";
  await assert.rejects(
    applyLayer(streamOf(await buildTar([{ name: "f", data: "x", pax: many }])), { root: path.join(dir, "a"), lowers: [], what: "layer 1 of img" }),
    /layer 1 of img entry "f" has more than 128 extended attributes \(images\.max_xattrs_per_entry\); raise the key/,
  );
  const spread: E[] = [];
  for (let i = 0; i < 11; i++) spread.push({ name: `f${i}`, data: "x", pax: { "SCHILY.xattr.user.a": "1" } });
  await assert.rejects(
    applyLayer(streamOf(await buildTar(spread)), { root: path.join(dir, "b"), lowers: [], limits: { maxXattrsPerLayer: 10 } }),
    /layer sets more than 10 extended attributes \(images\.max_layer_xattrs\)/,
  );
  await assert.rejects(
    applyLayer(streamOf(await buildTar([{ name: "big", data: "x", pax: { "SCHILY.xattr.user.big": "v".repeat(65537) } }])), { root: path.join(dir, "d"), lowers: [] }),
    /layer entry "big": xattr user\.big is 65537 bytes, over the kernel's limit of 65536/,
  );
  const heavy: E[] = [0, 1, 2].map((i) => ({ name: `h${i}`, data: "x", pax: { "SCHILY.xattr.user.h": "v".repeat(60) } }));
  await assert.rejects(
    applyLayer(streamOf(await buildTar(heavy)), { root: path.join(dir, "e"), lowers: [], limits: { maxXattrBytesPerLayer: 150 } }),
    /layer sets more than 150 bytes of extended attributes/,
  );
  const fifos: E[] = [];
  for (let i = 0; i < 4; i++) fifos.push({ name: `p${i}`, type: "fifo" });
  await assert.rejects(
    applyLayer(streamOf(await buildTar(fifos)), { root: path.join(dir, "c"), lowers: [], limits: { maxDeviceNodes: 3 } }),
    /layer has more than 3 device nodes and FIFOs/,
  );
});
