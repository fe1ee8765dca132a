// The checkpoint archive's layout on a directory built here (CRIU cannot run on this host): CRIU
// images under checkpoint/, config.dump, spec.dump, rootfs-diff.tar of the upper dir, dump.log.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ARCHIVE_LAYOUT, writeCheckpointArchive } from "../../../src/oci/checkpoint-archive.js";

const list = (tar: string) => execFileSync("tar", ["-tf", tar], { encoding: "utf8" }).split("\n").filter((l) => l !== "").sort();

test("writeCheckpointArchive: CRI-O/containerd layout, the upper dir as rootfs-diff.tar, nothing left behind", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berth-ckpt-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const work = join(dir, "work");
  await mkdir(join(work, ARCHIVE_LAYOUT.images), { recursive: true });
  await writeFile(join(work, ARCHIVE_LAYOUT.images, "pages-1.img"), "pages");
  await writeFile(join(work, ARCHIVE_LAYOUT.images, "inventory.img"), "inv");
  await writeFile(join(work, ARCHIVE_LAYOUT.dumpLog), "(00.000) dumping\n");
  const upper = join(dir, "upper");
  await mkdir(join(upper, "etc"), { recursive: true });
  await writeFile(join(upper, "etc", "changed"), "new file");
  const out = join(dir, "ckpt.tar");
  const spec = { ociVersion: "1.0.2", process: { args: ["sleep", "1000"] } };
  await writeCheckpointArchive(work, upper, { config: { id: "abc", name: "web" }, spec }, out);

  assert.deepEqual(list(out), ["./", "./checkpoint/", "./checkpoint/inventory.img", "./checkpoint/pages-1.img", "./config.dump", "./dump.log", "./rootfs-diff.tar", "./spec.dump"]);
  const x = join(dir, "x");
  await mkdir(x);
  execFileSync("tar", ["-xf", out, "-C", x]);
  assert.deepEqual(JSON.parse(await readFile(join(x, "config.dump"), "utf8")), { id: "abc", name: "web" });
  assert.deepEqual(JSON.parse(await readFile(join(x, "spec.dump"), "utf8")), spec);
  assert.deepEqual(list(join(x, "rootfs-diff.tar")), ["./", "./etc/", "./etc/changed"]);
  assert.equal(await readFile(join(x, "checkpoint", "pages-1.img"), "utf8"), "pages");
  assert.deepEqual((await readdir(dir)).sort(), ["ckpt.tar", "upper", "work", "x"]);
});

test("writeCheckpointArchive: no upper dir means no rootfs-diff.tar; a failure leaves no archive or temp file", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berth-ckpt-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const work = join(dir, "work");
  await mkdir(join(work, "checkpoint"), { recursive: true });
  const out = join(dir, "a.tar");
  await writeCheckpointArchive(work, join(dir, "no-upper"), { config: {}, spec: {} }, out);
  assert.ok(!list(out).includes("./rootfs-diff.tar"));
  const bad = join(dir, "missing-dir", "b.tar");
  await assert.rejects(writeCheckpointArchive(work, undefined, { config: {}, spec: {} }, bad), /tar .* failed/);
  assert.deepEqual((await readdir(dir)).sort(), ["a.tar", "work"]);
});
