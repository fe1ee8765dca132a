// A usrmerge base (lib -> usr/lib) under a layer adding lib/x, pulled and mounted as overlayfs:
// the file is at /lib/x and /usr/lib/x, lib stays a symlink, the base's files under it stay.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { pushImage } from "../fixtures/images.js";
import { pull, setup, status, tempDir } from "./images-kit.js";

test("usrmerge: an upper layer's lib/x lands through the lower lib -> usr/lib symlink", async (t) => {
  const { reg, d } = await setup(t);
  const img = await pushImage(reg, {
    repo: "usrmerge", tag: "v1",
    layers: [
      { entries: [
        { type: "dir", path: "usr" }, { type: "dir", path: "usr/lib" },
        { type: "file", path: "usr/lib/libc.so", content: "libc\n" },
        { type: "symlink", path: "lib", target: "usr/lib" },
      ] },
      { entries: [
        { type: "file", path: "lib/x", content: "x\n" },
        { type: "file", path: "lib/modules/m.ko", content: "m\n" },
      ] },
    ],
  });
  await pull(d, img.reference);
  const info = JSON.parse((await status(d, img.reference, true)).info["info"] ?? "{}") as { lowerDirs: string[] };
  const merged = join(await tempDir(t, "berth-merged-"), "m");
  mkdirSync(merged);
  execFileSync("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${info.lowerDirs.join(":")}`, merged]);
  try {
    const p = (x: string): string => join(merged, x);
    assert.ok(lstatSync(p("lib")).isSymbolicLink(), "lib is still a symlink");
    assert.equal(readlinkSync(p("lib")), "usr/lib");
    assert.equal(readFileSync(p("lib/x"), "utf8"), "x\n");
    assert.equal(readFileSync(p("usr/lib/x"), "utf8"), "x\n");
    assert.equal(readFileSync(p("lib/modules/m.ko"), "utf8"), "m\n");
    assert.equal(readFileSync(p("lib/libc.so"), "utf8"), "libc\n", "the base's files under lib are not hidden");
    assert.deepEqual(readdirSync(p("usr/lib")).sort(), ["libc.so", "modules", "x"]);
  } finally {
    execFileSync("umount", [merged]);
  }
});
