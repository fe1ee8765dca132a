// Checks the shared test fixtures themselves with independent tools (GNU tar, getfattr, skopeo),
// since every later end-to-end test trusts the images they build.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { lstat, mkdir, readFile, readlink, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { buildTar, busyboxApplets, busyboxLayer, fileCapability, layerTar } from "../../../fixtures/layers.js";
import { pushBusybox, pushIndex, pushRichImage } from "../../../fixtures/images.js";
import { registry, tempDir } from "../../../unit/images/registry/setup.js";

const run = promisify(execFile);

/** Extracts with GNU tar into <tmp>/root and returns that path. */
async function untar(tar: Buffer, tmp: string): Promise<string> {
  const path = join(tmp, "layer.tar");
  const root = join(tmp, "root");
  await writeFile(path, tar);
  await mkdir(root);
  await run("tar", ["--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf", path, "-C", root]);
  return root;
}

test("busybox layer: static busybox, every applet a hard link to it, users, /tmp 1777", async (t) => {
  const dir = await untar(await layerTar(busyboxLayer()), await tempDir(t));
  const bb = await stat(join(dir, "bin/busybox"));
  assert.equal(bb.mode & 0o7777, 0o755);
  const applets = busyboxApplets();
  assert.ok(applets.length > 100 && applets.includes("bin/sh"), `${applets.length} applets`);
  for (const a of applets) assert.equal((await stat(join(dir, a))).ino, bb.ino, `${a} is a hard link to bin/busybox`);
  assert.equal(bb.nlink, applets.length + 1);
  assert.match(await readFile(join(dir, "etc/passwd"), "utf8"), /^app:x:1000:1000:/m);
  assert.match(await readFile(join(dir, "etc/group"), "utf8"), /^nobody:x:65534:/m);
  assert.equal((await stat(join(dir, "tmp"))).mode & 0o7777, 0o1777);
  assert.equal((await stat(join(dir, "home/app"))).uid, 1000);
  const { stdout } = await run(join(dir, "bin/sh"), ["-c", "echo ok"]);
  assert.equal(stdout, "ok\n");
});

test("layer spec: binary xattrs survive (file capability), setuid, symlinks, whiteouts, opaque markers", async (t) => {
  const cap = fileCapability([7, 10]); // 0x80 in byte 4: not valid UTF-8, needs the byte patch
  const dir = await untar(await buildTar([
    { type: "dir", path: "d" },
    { type: "file", path: "d/cap", mode: 0o755, content: "x", xattrs: { "security.capability": cap, "user.note": "hi" } },
    { type: "file", path: "d/suid", mode: 0o4755, content: "y", uid: 1000, gid: 1000 },
    { type: "symlink", path: "d/link", target: "../elsewhere" },
    { type: "hardlink", path: "d/hard", target: "/d/cap" },
    { type: "whiteout", path: "/d/gone" },
    { type: "opaque", path: "d/" },
  ]), await tempDir(t));
  const { stdout } = await run("getfattr", ["--absolute-names", "-e", "hex", "-n", "security.capability", join(dir, "d/cap")]);
  assert.match(stdout, new RegExp(`security.capability=0x${cap.toString("hex")}`));
  const note = await run("getfattr", ["--absolute-names", "--only-values", "-n", "user.note", join(dir, "d/cap")]);
  assert.equal(note.stdout, "hi");
  const suid = await stat(join(dir, "d/suid"));
  assert.equal(suid.mode & 0o7777, 0o4755);
  assert.equal(suid.uid, 1000);
  assert.equal(await readlink(join(dir, "d/link")), "../elsewhere");
  assert.equal((await stat(join(dir, "d/hard"))).ino, (await stat(join(dir, "d/cap"))).ino);
  assert.ok((await lstat(join(dir, "d/.wh.gone"))).isFile());
  assert.ok((await lstat(join(dir, "d/.wh..wh..opq"))).isFile());
});

test("pushed images are valid for skopeo (digests, layers, configs, indexes)", async (t) => {
  const reg = await registry(t);
  const dir = await tempDir(t);
  const busybox = await pushBusybox(reg);
  const rich = await pushRichImage(reg, "rich", "zstd", "zstd");
  const docker = await pushRichImage(reg, "rich", "docker", "gzip");
  const idx = await pushIndex(reg, {
    repo: "multi", tag: "v1", mediaTypes: "docker",
    images: [
      { platform: { os: "linux", architecture: "arm64", variant: "v8" }, layers: [{ entries: [{ type: "file", path: "a", content: "arm" }] }] },
      { platform: { os: "linux", architecture: "amd64" }, layers: [{ entries: [{ type: "file", path: "a", content: "amd" }] }] },
    ],
  });
  for (const [i, ref] of [busybox.reference, rich.reference, docker.reference, idx.reference].entries()) {
    await run("skopeo", ["copy", "--quiet", "--src-tls-verify=false", "--override-arch", "amd64", `docker://${ref}`, `oci:${join(dir, `oci${i}`)}:x`], { timeout: 60_000 });
  }
  for (const l of rich.layers) assert.equal(l.diffId, `sha256:${createHash("sha256").update(l.tar).digest("hex")}`);
  const inspect = await run("skopeo", ["inspect", "--tls-verify=false", "--config", `docker://${rich.reference}`]);
  const cfg = JSON.parse(inspect.stdout) as { config: { User: string; WorkingDir: string }; rootfs: { diff_ids: string[] } };
  assert.equal(cfg.config.User, "app");
  assert.equal(cfg.config.WorkingDir, "/data");
  assert.deepEqual(cfg.rootfs.diff_ids, rich.layers.map((l) => l.diffId));
});
