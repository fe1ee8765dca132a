// Whiteouts, opaque directories and implicit parents checked the way a container sees them:
// two applied layers mounted as overlayfs lowers, reading the merged view.
import assert from "node:assert/strict";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { applyLayer } from "../../../../src/images/unpack/apply.js";
import { buildTar, run, streamOf } from "../../../fixtures/layer-kit.js";

test("overlay merged view hides whited-out and opaque lower content, keeps this layer's own", async (t) => {
  const base = await fsp.mkdtemp(path.join(os.tmpdir(), "berth-overlay-"));
  const merged = path.join(base, "merged");
  let mounted = false;
  t.after(async () => {
    if (mounted) await run("umount", [merged]);
    await fsp.rm(base, { recursive: true, force: true });
  });
  const l1 = path.join(base, "l1");
  const l2 = path.join(base, "l2");
  await applyLayer(
    streamOf(
      await buildTar([
        { name: "etc/", type: "directory" },
        { name: "etc/motd", data: "hello" },
        { name: "etc/keep", data: "kept" },
        { name: "var/cache/", type: "directory" },
        { name: "var/cache/a", data: "a" },
        { name: "var/cache/sub/c", data: "c" },
        { name: "tmp/", type: "directory", mode: 0o1777 },
        { name: "gone/deep/file", data: "g" },
        { name: "same/x", data: "lower x" },
      ]),
    ),
    { root: l1, lowers: [] },
  );
  await applyLayer(
    streamOf(
      await buildTar([
        { name: "etc/.wh.motd" },
        { name: "etc/added", data: "new" },
        { name: "var/cache/new", data: "n" },
        { name: "var/cache/.wh..wh..opq" }, // applies to lower content wherever it sits in the tar
        { name: "tmp/newfile", data: "t" }, // tmp/ is implicit here: 1777 comes from the lower
        { name: ".wh.gone" },
        { name: "same/x", data: "upper x" },
        { name: "same/.wh.x" }, // a whiteout never hides its own layer's entry
      ]),
    ),
    { root: l2, lowers: [l1] },
  );
  await fsp.mkdir(merged);
  await run("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${l2}:${l1}`, merged]);
  mounted = true;

  const ls = async (p: string) => (await fsp.readdir(path.join(merged, p))).sort();
  assert.deepEqual(await ls("etc"), ["added", "keep"]);
  assert.deepEqual(await ls("var/cache"), ["new"]);
  assert.deepEqual(await ls("."), ["etc", "same", "tmp", "var"]);
  assert.deepEqual(await ls("tmp"), ["newfile"]);
  assert.equal((await fsp.stat(path.join(merged, "tmp"))).mode & 0o7777, 0o1777);
  assert.equal(await fsp.readFile(path.join(merged, "same/x"), "utf8"), "upper x");
  assert.equal(await fsp.readFile(path.join(merged, "etc/keep"), "utf8"), "kept");
});
