// The layers of a pulled image seen the way a container sees them: the image's layer
// directories mounted as overlayfs lowers, and the merged view checked against the OCI rules.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { pushBusybox, pushRichImage } from "../fixtures/images.js";
import { list, onDisk, pull, remove, setup, status, tempDir } from "./images-kit.js";

test("rich image through overlayfs: whiteouts, opaque dirs, links, setuid, file caps, xattrs, owners", async (t) => {
  const { reg, d } = await setup(t);
  const img = await pushRichImage(reg);
  await pull(d, img.reference);
  const info = JSON.parse((await status(d, img.reference, true)).info["info"] ?? "{}") as { lowerDirs: string[] };
  assert.equal(info.lowerDirs.length, 3);
  for (const dir of info.lowerDirs) assert.ok(dir.startsWith(join(d.root, "layers")) && dir.length < 80, `short layer dir ${dir}`);
  const merged = join(await tempDir(t, "berth-merged-"), "m");
  mkdirSync(merged);
  execFileSync("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${info.lowerDirs.join(":")}`, merged]);
  try {
    const p = (x: string): string => join(merged, x);
    assert.equal(readFileSync(p("opt/app/run.sh"), "utf8"), "#!/bin/sh\necho \"run.sh $@\"\n");
    assert.equal(statSync(p("opt/app/run.sh")).mode & 0o7777, 0o755);
    assert.equal(readlinkSync(p("opt/app/current")), "run.sh");
    assert.equal(readlinkSync(p("usr/local/bin/app")), "/opt/app/run.sh");
    assert.equal(statSync(p("opt/app/suid")).mode & 0o7777, 0o4755);
    const caps = execFileSync("getfattr", ["--absolute-names", "-e", "hex", "-n", "security.capability", p("opt/app/capbin")], { encoding: "utf8" });
    assert.match(caps, /security\.capability=0x0100000200040000/);
    assert.equal(readFileSync(p("data/a.txt"), "utf8"), "a-v2\n", "replaced in the top layer");
    assert.equal(readFileSync(p("data/hard"), "utf8"), "a-v1\n", "the hard link keeps the lower content");
    assert.deepEqual(readdirSync(p("data")).sort(), ["a.txt", "hard", "user.xattr", "vol"], "b.txt and sub/ whited out");
    assert.deepEqual(readdirSync(p("var/cache/old")), ["z.txt"], "opaque: the lower x.txt and y.txt are hidden");
    assert.equal(lstatSync(p("etc/removed.conf"), { throwIfNoEntry: false }), undefined);
    assert.equal(readFileSync(p("etc/keep.conf"), "utf8"), "kept\n");
    assert.equal(statSync(p("data/vol")).uid, 1000);
    assert.equal(statSync(p("data")).uid, 1000);
    const user = execFileSync("getfattr", ["--absolute-names", "--only-values", "-n", "user.berth", p("data/user.xattr")], { encoding: "utf8" });
    assert.equal(user, "yes");
    assert.equal(statSync(p("tmp")).mode & 0o7777, 0o1777);
    const sh = statSync(p("bin/sh"));
    assert.equal(sh.ino, statSync(p("bin/busybox")).ino, "busybox applets are hard links");
    assert.ok(sh.nlink > 100);
  } finally {
    execFileSync("umount", [merged]);
  }
});

test("a layer still mounted under an overlay survives RemoveImage; GC takes it once unmounted", async (t) => {
  const { reg, d } = await setup(t);
  const img = await pushBusybox(reg);
  const other = await pushBusybox(reg, "other", "v1", "zstd");
  await pull(d, img.reference);
  const [id] = (await onDisk(d)).layers;
  const base = await tempDir(t, "berth-merged-");
  const [merged, upper, work] = ["m", "u", "w"].map((x) => join(base, x)) as [string, string, string];
  for (const x of [merged, upper, work]) mkdirSync(x);
  // Mounted the way the containers service does it: relative lowerdir from the layers directory.
  execFileSync("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${id}/diff,upperdir=${upper},workdir=${work}`, merged], { cwd: join(d.root, "layers") });
  let mounted = true;
  try {
    await remove(d, img.reference);
    assert.deepEqual(await list(d), []);
    assert.deepEqual((await onDisk(d)).layers, [id], "the mounted layer is kept");
    assert.ok(readFileSync(join(merged, "etc/passwd"), "utf8").startsWith("root:"));
  } finally {
    execFileSync("umount", [merged]);
    mounted = false;
  }
  assert.equal(mounted, false);
  await pull(d, other.reference); // the next collection (here: after this removal) takes it
  await remove(d, other.reference);
  assert.deepEqual((await onDisk(d)).layers, []);
});
