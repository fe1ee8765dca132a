// The overlay rootfs: lowerdirs under the layer store are passed relative (short options), the
// option string is checked against the kernel's page limit, and a real mount/unmount round trip.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { mountOverlay, overlayOptions, unmountOverlay } from "../../../../src/containers/rootfs/overlay.js";
import { isMountPoint } from "../../../../src/oci/mount.js";

test("lowerdirs inside the layer store are relative; others stay absolute", () => {
  const o = overlayOptions({ layersDir: "/var/lib/berth/layers", lowers: ["/var/lib/berth/layers/aaaaaaaaaaaa/diff", "/elsewhere/x"], upper: "/c/u", work: "/c/w", target: "/t" });
  assert.equal(o, "lowerdir=aaaaaaaaaaaa/diff:/elsewhere/x,upperdir=/c/u,workdir=/c/w");
});

test("128 short layer ids fit the one-page limit; 300 do not, with a clear error", () => {
  const lowers = (n: number) => Array.from({ length: n }, (_, i) => `/var/lib/berth/layers/${i.toString(16).padStart(12, "0")}/diff`);
  const ok = overlayOptions({ layersDir: "/var/lib/berth/layers", lowers: lowers(128), upper: "/var/lib/berth/containers/x/upper", work: "/var/lib/berth/containers/x/work", target: "/t" });
  assert.ok(ok.length < 4096);
  assert.throws(() => overlayOptions({ layersDir: "/var/lib/berth/layers", lowers: lowers(300), upper: "/u", work: "/w", target: "/t" }), /300 layers/);
  assert.throws(() => overlayOptions({ layersDir: "/l", lowers: ["/l/a:b"], upper: "/u", work: "/w", target: "/t" }), /':'/);
  assert.throws(() => overlayOptions({ layersDir: "/l", lowers: [], upper: "/u", work: "/w", target: "/t" }), /at least one/);
});

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
