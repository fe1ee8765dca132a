// Tar header fields the applier takes from PAX records: out-of-range times are ignored (the
// header's time is kept) instead of failing the layer (EINVAL/TypeError in futimes before).
import assert from "node:assert/strict";
import fsp from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import type { Header } from "tar-stream";
import { applyLayer } from "../../../../src/images/unpack/apply.js";
import { toEntry } from "../../../../src/images/unpack/entry.js";
import { T0, buildTar, streamOf, tempDir } from "../../../fixtures/layer-kit.js";

const header = (h: Partial<Header>): Header => ({ name: "f", size: 0, mode: 0o644, mtime: T0, type: "file", linkname: "", uid: 0, gid: 0, uname: "", gname: "", devmajor: 0, devminor: 0, ...h });
const HUGE = "1" + "0".repeat(20); // futimes: EINVAL
const INFINITE = "9".repeat(400); // Number(): Infinity, a TypeError in futimes

test("a PAX mtime/atime past what utimes takes is ignored with a warning, the header's time kept", () => {
  for (const v of [HUGE, INFINITE, `-${HUGE}`]) {
    const warnings: string[] = [];
    const e = toEntry(
      header({ size: 1 }),
      new Map([["mtime", Buffer.from(v)], ["atime", Buffer.from(v)]]),
      (w) => warnings.push(w),
      8,
      "layer x",
    );
    assert.equal(e.attrs.mtime, T0.getTime() / 1000);
    assert.equal(e.attrs.atime, T0.getTime() / 1000);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /layer entry "f" has PAX mtime .* out of range; ignored/);
  }
});

test("PAX times in range still win over the header's, fractions included", () => {
  const e = toEntry(header({}), new Map([["mtime", Buffer.from("1700000000.25")]]), () => undefined, 8, "layer x");
  assert.equal(e.attrs.mtime, 1700000000.25);
  assert.equal(e.attrs.atime, 1700000000.25);
});

test("a layer whose file has a 20-digit or 400-digit PAX mtime unpacks, with the header's mtime", async (t) => {
  for (const v of [HUGE, INFINITE]) {
    const root = path.join(await tempDir(t), "l");
    const r = await applyLayer(streamOf(await buildTar([{ name: "f", data: "x", mtime: T0, pax: { mtime: v } }])), { root, lowers: [] });
    assert.equal(r.entries, 1);
    assert.equal((await fsp.stat(path.join(root, "f"))).mtime.getTime(), T0.getTime());
  }
});
