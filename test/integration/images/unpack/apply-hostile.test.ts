// Hostile layers: each is refused or neutralised (written inside the layer root), and in every
// case a sentinel tree beside the root, the root's parent and /etc/passwd are left untouched.
import assert from "node:assert/strict";
import fsp from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { test, type TestContext } from "node:test";
import zlib from "node:zlib";
import { applyLayer, type ApplyLimits } from "../../../../src/images/unpack/apply.js";
import { decompressLayer } from "../../../../src/images/unpack/decompress.js";
import { buildTar, getXattr, sentinelSetup, streamOf, type E } from "../../../fixtures/layer-kit.js";

type Setup = Awaited<ReturnType<typeof sentinelSetup>>;

/**
 * Applies the layer made by `entries` and expects a refusal matching `refused`, or (null) success
 * followed by `inside` checks; then checks the sentinel.
 */
async function hostile(
  t: TestContext,
  entries: (s: Setup) => E[] | Promise<Buffer>,
  refused: RegExp | null,
  inside?: (s: Setup) => Promise<void>,
  limits?: Partial<ApplyLimits>,
): Promise<void> {
  const s = await sentinelSetup(t);
  const made = entries(s);
  const tarball = Array.isArray(made) ? await buildTar(made) : await made;
  const applying = applyLayer(streamOf(tarball), { root: s.root, lowers: [], limits });
  if (refused) await assert.rejects(applying, (err: Error) => (assert.match(err.message, refused), true));
  else await applying;
  if (inside) await inside(s);
  await s.check();
}

const isFile = async (p: string, content?: string): Promise<void> => {
  assert.ok((await fsp.lstat(p)).isFile(), `${p} is a file`);
  if (content !== undefined) assert.equal(await fsp.readFile(p, "utf8"), content);
};

test("../ traversal is refused", (t) =>
  hostile(t, () => [{ name: "../sentinel/pwn", data: "x" }], /layer entry "\.\.\/sentinel\/pwn": path escapes the layer root/));

test("traversal hidden behind a directory (a/../../x) is refused", (t) =>
  hostile(t, () => [{ name: "a/", type: "directory" }, { name: "a/../../sentinel/keep", data: "x" }], /escapes the layer root/));

test("an absolute path is taken relative to the layer root", (t) =>
  hostile(t, (s) => [{ name: path.join(s.sentinel, "keep"), data: "pwned" }], null, (s) =>
    isFile(path.join(s.root, s.sentinel, "keep"), "pwned"),
  ));

test("a symlinked parent to an absolute host path resolves inside the root", (t) =>
  hostile(t, (s) => [{ name: "a", type: "symlink", linkname: s.sentinel }, { name: "a/pwn", data: "x" }, { name: "a/keep", data: "y" }], null, async (s) => {
    assert.equal(await fsp.readlink(path.join(s.root, "a")), s.sentinel, "the symlink itself is stored as is");
    await isFile(path.join(s.root, s.sentinel, "pwn"), "x");
    await isFile(path.join(s.root, s.sentinel, "keep"), "y");
  }));

test("a relative symlink climbing out (../sentinel) stops at the root", (t) =>
  hostile(t, () => [{ name: "a", type: "symlink", linkname: "../sentinel" }, { name: "a/keep", data: "x" }], null, (s) =>
    isFile(path.join(s.root, "sentinel/keep"), "x"),
  ));

test("chains of symlinks to .. stay at the root", (t) =>
  hostile(
    t,
    () => [
      { name: "up", type: "symlink", linkname: ".." },
      { name: "up2", type: "symlink", linkname: "up/up/../up" },
      { name: "deep/er/", type: "directory" },
      { name: "deep/er/x", type: "symlink", linkname: "../../../../../../../../../sentinel" },
      { name: "up2/up/sentinel/sub/file", data: "1" },
      { name: "deep/er/x/keep", data: "2" },
    ],
    null,
    async (s) => {
      await isFile(path.join(s.root, "sentinel/sub/file"), "1");
      await isFile(path.join(s.root, "sentinel/keep"), "2");
    },
  ));

test("a hardlink to /etc/passwd is refused", (t) =>
  hostile(t, () => [{ name: "passwd", type: "link", linkname: "/etc/passwd" }], /hardlink target "\/etc\/passwd" is not in this layer/));

test("a hardlink climbing out with .. is refused", (t) =>
  hostile(t, () => [{ name: "h", type: "link", linkname: "../sentinel/keep" }], /hardlink target escapes the layer root/));

test("a hardlink through a symlinked parent resolves inside the root", (t) =>
  hostile(
    t,
    (s) => [
      { name: "s", type: "symlink", linkname: s.sentinel },
      { name: "h", type: "link", linkname: "s/keep" },
    ],
    /is not in this layer/,
  ));

test("a hardlink to a symlink pointing out links the symlink, and chmod does not follow it", (t) =>
  hostile(
    t,
    (s) => [
      { name: "s", type: "symlink", linkname: path.join(s.sentinel, "keep") },
      { name: "h", type: "link", linkname: "s", mode: 0o777, uid: 1234 },
    ],
    null,
    async (s) => {
      const h = await fsp.lstat(path.join(s.root, "h"));
      assert.ok(h.isSymbolicLink());
      assert.equal(h.uid, 1234);
    },
  ));

test("whiteouts of .., of . and a bare .wh. are refused", async (t) => {
  await hostile(t, () => [{ name: ".wh..." }], /invalid whiteout "\.wh\.\.\."/);
  await hostile(t, () => [{ name: "a/.wh.." }], /invalid whiteout/);
  await hostile(t, () => [{ name: "a/.wh." }], /invalid whiteout "\.wh\.": it names no file/);
  await hostile(t, () => [{ name: ".wh..wh.plnk/123" }, { name: ".wh..wh.aufs" }], /AUFS/);
});

test("whiteouts and opaque markers under a symlinked parent land inside the root", (t) =>
  hostile(
    t,
    (s) => [
      { name: "s", type: "symlink", linkname: s.sentinel },
      { name: "s/.wh.keep" },
      { name: "s/.wh..wh..opq" },
    ],
    null,
    async (s) => {
      assert.ok((await fsp.lstat(path.join(s.root, s.sentinel, "keep"))).isCharacterDevice());
      assert.deepEqual(await getXattr(path.join(s.root, s.sentinel), "trusted.overlay.opaque"), Buffer.from("y"));
      assert.equal(await getXattr(s.sentinel, "trusted.overlay.opaque"), null);
    },
  ));

test("a PAX header over the limit is refused", (t) =>
  hostile(t, () => [{ name: "f", data: "x", pax: { comment: "A".repeat(2 * 1024 * 1024) } }], /pax-header of \d+ bytes, over the limit of 1048576/));

test("a name longer than 4096 bytes is refused", (t) =>
  hostile(t, () => [{ name: "d/".repeat(2100) + "f", data: "x" }], /path is longer than 4096 bytes/));

test("a NUL byte in a name is refused", (t) =>
  hostile(t, () => [{ name: "ok", data: "x", pax: { path: "../sentinel/keep\u0000.txt" } }], /contains a NUL byte/));

test("a gzip bomb stops at the decompressed-size cap", async (t) => {
  const bomb = zlib.gzipSync(Buffer.alloc(100 * 1024 * 1024), { level: 9 });
  assert.ok(bomb.length < 200 * 1024);
  // Through decompressLayer with a 10 MB cap:
  const s = await sentinelSetup(t);
  const tarStream = decompressLayer(Readable.from([bomb]), "application/vnd.oci.image.layer.v1.tar+gzip", 10 * 1024 * 1024);
  await assert.rejects(applyLayer(tarStream, { root: s.root, lowers: [] }), /exceeds the limit of 10485760 uncompressed bytes/);
  await s.check();
  // And the applier's own cap on the uncompressed tar:
  const s2 = await sentinelSetup(t);
  const zeros = zlib.createGunzip();
  Readable.from([bomb]).pipe(zeros);
  await assert.rejects(applyLayer(zeros, { root: s2.root, lowers: [], limits: { maxBytes: 10 * 1024 * 1024 } }), /layer unpacks to more than 10\.0 MiB \(images\.max_layer_bytes\); raise the key/);
  await s2.check();
});

test("device nodes in weird paths are refused or kept inside the root", async (t) => {
  await hostile(t, () => [{ name: "../sentinel/null", type: "character-device", devmajor: 1, devminor: 3 }], /escapes the layer root/);
  await hostile(
    t,
    (s) => [
      { name: "d", type: "symlink", linkname: s.sentinel },
      { name: "d/sda", type: "block-device", devmajor: 8, devminor: 0 },
      { name: "d/keep", type: "fifo" },
    ],
    null,
    async (s) => {
      assert.ok((await fsp.lstat(path.join(s.root, s.sentinel, "sda"))).isBlockDevice());
      assert.ok((await fsp.lstat(path.join(s.root, s.sentinel, "keep"))).isFIFO());
    },
  );
});

test("a directory replaced by a symlink is not written through", (t) =>
  hostile(
    t,
    (s) => [
      { name: "d/", type: "directory" },
      { name: "d/f", data: "old" },
      { name: "d", type: "symlink", linkname: s.sentinel },
      { name: "d/keep", data: "pwned" },
      { name: "d/sub/file", data: "pwned too" },
    ],
    null,
    async (s) => {
      assert.ok((await fsp.lstat(path.join(s.root, "d"))).isSymbolicLink());
      await isFile(path.join(s.root, s.sentinel, "keep"), "pwned");
      await isFile(path.join(s.root, s.sentinel, "sub/file"), "pwned too");
    },
  ));

test("duplicate entries replace symlinks instead of following them (file, dir, chmod)", (t) =>
  hostile(
    t,
    (s) => [
      { name: "x", type: "symlink", linkname: path.join(s.sentinel, "keep") },
      { name: "x", data: "replaced", mode: 0o777 },
      { name: "y", type: "symlink", linkname: s.sentinel },
      { name: "y/", type: "directory", mode: 0o777, uid: 99 },
      { name: "z", data: "first" },
      { name: "z", data: "second" },
    ],
    null,
    async (s) => {
      await isFile(path.join(s.root, "x"), "replaced");
      const y = await fsp.lstat(path.join(s.root, "y"));
      assert.ok(y.isDirectory());
      assert.deepEqual([y.mode & 0o7777, y.uid], [0o777, 99]);
      await isFile(path.join(s.root, "z"), "second");
    },
  ));

test("symlink loops are refused", (t) =>
  hostile(
    t,
    () => [
      { name: "a", type: "symlink", linkname: "b" },
      { name: "b", type: "symlink", linkname: "a" },
      { name: "a/x", data: "x" },
    ],
    /too many levels of symbolic links/,
  ));

test("xattrs on a symlink pointing out stay on the symlink; forged overlay xattrs are dropped", (t) =>
  hostile(
    t,
    (s): E[] => [
      { name: "s", type: "symlink", linkname: path.join(s.sentinel, "keep"), pax: { "SCHILY.xattr.user.pwn": "1" } },
      { name: "d/", type: "directory", pax: { "SCHILY.xattr.trusted.overlay.redirect": "/sentinel" } },
    ],
    null,
    async (s) => {
      assert.equal(await getXattr(path.join(s.sentinel, "keep"), "user.pwn"), null);
      assert.equal(await getXattr(path.join(s.root, "d"), "trusted.overlay.redirect"), null);
    },
  ));

test("a file used as a parent is refused; caps on entries are enforced", async (t) => {
  await hostile(t, () => [{ name: "f", data: "x" }, { name: "f/x", data: "y" }], /layer entry "f\/x": parent "f" is not a directory/);
  const many: E[] = Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, data: "x" }));
  await hostile(t, () => many, /layer unpacks to more than 10 tar entries \(images\.max_layer_entries\)/, undefined, { maxEntries: 10 });
});

test("a symlink already in a non-empty root is resolved inside the root too", async (t) => {
  const s = await sentinelSetup(t);
  await fsp.symlink(s.sentinel, path.join(s.root, "pre"));
  await applyLayer(streamOf(await buildTar([{ name: "pre/keep", data: "inside" }])), { root: s.root, lowers: [] });
  await isFile(path.join(s.root, s.sentinel, "keep"), "inside");
  await s.check();
});

test("a truncated or corrupt tar is refused", async (t) => {
  const good = await buildTar([{ name: "f", data: "x".repeat(5000) }]);
  await hostile(t, async () => good.subarray(0, 1500), /not a valid tar archive|Unexpected end/);
  const bad = Buffer.from(good);
  bad[10] = 0x41; // breaks the header checksum
  await hostile(t, async () => bad, /not a valid tar archive/);
});
