// Entries under a directory a lower layer made a symlink (usrmerge: lib -> usr/lib) land where the
// merged view puts them, through the symlink, and never outside the layer root.
import assert from "node:assert/strict";
import fsp from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { applyLayer } from "../../../../src/images/unpack/apply.js";
import { buildTar, sentinelSetup, streamOf, tempDir, type E } from "../../../fixtures/layer-kit.js";

async function layers(base: string, specs: E[][]): Promise<string[]> {
  const dirs: string[] = [];
  for (const [i, entries] of specs.entries()) {
    const root = path.join(base, `l${i}`);
    await applyLayer(streamOf(await buildTar(entries)), { root, lowers: [...dirs].reverse() });
    dirs.push(root);
  }
  return dirs;
}

const exists = (p: string): Promise<boolean> => fsp.lstat(p).then(() => true, () => false);

test("usrmerge: lib/x, a whiteout and a hard link under lib -> usr/lib land in usr/lib; lib stays the lower symlink", async (t) => {
  const base = await tempDir(t);
  const [, up] = await layers(base, [
    [
      { name: "usr/", type: "directory" },
      { name: "usr/lib/", type: "directory", mode: 0o755 },
      { name: "usr/lib/old.so", data: "old" },
      { name: "lib", type: "symlink", linkname: "usr/lib" },
      { name: "bin", type: "symlink", linkname: "/usr/bin" },
      { name: "usr/bin/", type: "directory" },
    ],
    [
      { name: "lib/x", data: "x" },
      { name: "lib/sub/y", data: "y" },
      { name: "lib/.wh.old.so" },
      { name: "lib/hard", type: "link", linkname: "lib/x" },
      { name: "bin/tool", data: "t" },
    ],
  ]) as [string, string];
  assert.equal(await exists(path.join(up, "lib")), false, "no lib/ directory in the upper layer");
  assert.equal(await exists(path.join(up, "bin")), false, "absolute target: no bin/ either");
  assert.equal(await fsp.readFile(path.join(up, "usr/lib/x"), "utf8"), "x");
  assert.equal(await fsp.readFile(path.join(up, "usr/lib/sub/y"), "utf8"), "y");
  assert.ok((await fsp.lstat(path.join(up, "usr/lib/old.so"))).isCharacterDevice(), "the whiteout hides usr/lib/old.so");
  assert.equal((await fsp.lstat(path.join(up, "usr/lib/hard"))).ino, (await fsp.lstat(path.join(up, "usr/lib/x"))).ino);
  assert.equal(await fsp.readFile(path.join(up, "usr/bin/tool"), "utf8"), "t");
});

test("what the upper layers hold wins: an upper directory, an upper whiteout, a chain of links across layers", async (t) => {
  const base = await tempDir(t);
  const [, , , top] = await layers(base, [
    [
      { name: "a", type: "symlink", linkname: "b" }, { name: "b", type: "symlink", linkname: "real" }, { name: "real/", type: "directory" },
      { name: "c", type: "symlink", linkname: "real" },
    ],
    // Layer 1 replaces the symlink c with a directory; d is a symlink (to /real) only in layer 1.
    [{ name: "c/", type: "directory" }, { name: "d", type: "symlink", linkname: "/real" }],
    [{ name: ".wh.d" }, { name: "e", type: "symlink", linkname: "a" }],
    [{ name: "e/1", data: "1" }, { name: "c/2", data: "2" }, { name: "d/3", data: "3" }],
  ]) as [string, string, string, string];
  assert.equal(await fsp.readFile(path.join(top, "real/1"), "utf8"), "1", "e -> a -> b -> real, links in two layers");
  assert.equal(await fsp.readFile(path.join(top, "c/2"), "utf8"), "2", "an upper directory hides the lower symlink c");
  assert.equal(await exists(path.join(top, "real/2")), false);
  assert.equal(await fsp.readFile(path.join(top, "d/3"), "utf8"), "3", "d is whited out above its symlink: a new directory");
  assert.equal(await exists(path.join(top, "real/3")), false);
});

test("a lower symlink climbing out or pointing at a host path keeps the entry inside the upper root", async (t) => {
  const s = await sentinelSetup(t);
  const lower = path.join(await tempDir(t), "lower");
  await applyLayer(
    streamOf(await buildTar([
      { name: "up", type: "symlink", linkname: "../../../../sentinel" },
      { name: "abs", type: "symlink", linkname: s.sentinel },
      { name: "loop", type: "symlink", linkname: "loop2" },
      { name: "loop2", type: "symlink", linkname: "loop" },
    ])),
    { root: lower, lowers: [] },
  );
  await applyLayer(streamOf(await buildTar([{ name: "up/keep", data: "x" }, { name: "abs/sub/file", data: "y" }])), { root: s.root, lowers: [lower] });
  assert.equal(await fsp.readFile(path.join(s.root, "sentinel/keep"), "utf8"), "x");
  assert.equal(await fsp.readFile(path.join(s.root, s.sentinel, "sub/file"), "utf8"), "y");
  await assert.rejects(
    applyLayer(streamOf(await buildTar([{ name: "loop/f", data: "z" }])), { root: path.join(s.base, "root", "again"), lowers: [lower] }),
    /too many levels of symbolic links/,
  );
  await s.check();
});
