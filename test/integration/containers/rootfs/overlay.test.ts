// The overlay rootfs mounted for real (root): lower and upper merge, writes land in upper,
// unmount is idempotent.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { mountOverlay, unmountOverlay } from "../../../../src/containers/rootfs/overlay.js";
import { isMountPoint } from "../../../../src/oci/mount.js";

test("mount merges lower and upper; writes land in upper; unmount is idempotent", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berth-ovl-"));
  const target = join(dir, "merged");
  t.after(async () => {
    await unmountOverlay(target).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });
  const layers = join(dir, "layers");
  for (const d of ["layers/aaa/diff", "layers/bbb/diff", "upper", "work", "merged"]) await mkdir(join(dir, d), { recursive: true });
  await writeFile(join(layers, "aaa/diff/a"), "bottom\n");
  await writeFile(join(layers, "bbb/diff/a"), "top\n");
  await writeFile(join(layers, "aaa/diff/b"), "b\n");
  await mountOverlay({ layersDir: layers, lowers: [join(layers, "bbb/diff"), join(layers, "aaa/diff")], upper: join(dir, "upper"), work: join(dir, "work"), target });
  assert.ok(await isMountPoint(target));
  assert.equal(await readFile(join(target, "a"), "utf8"), "top\n", "topmost first");
  assert.equal(await readFile(join(target, "b"), "utf8"), "b\n");
  await writeFile(join(target, "c"), "new\n");
  assert.equal(await readFile(join(dir, "upper", "c"), "utf8"), "new\n");
  await unmountOverlay(target);
  assert.ok(!(await isMountPoint(target)));
  await unmountOverlay(target);
});
