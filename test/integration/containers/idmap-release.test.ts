// The teardown guard for idmapped copies a crash left attached under a container's dirs: removing
// the dirs afterwards must not reach through into the copied host tree.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { IDMAP_DIR, releaseIdmapCopies } from "../../../src/containers/rootfs/idmapped.js";

const run = promisify(execFile);

test("copies left under <dir>/idmap are detached, so removing the container's dirs spares the host tree", async (t) => {
  const top = await mkdtemp(join(tmpdir(), "berth-idmap-release-"));
  t.after(async () => {
    await run("umount", ["-R", "-l", join(top, "bundle", IDMAP_DIR, "0")]).catch(() => undefined);
    await rm(top, { recursive: true, force: true });
  });
  const host = join(top, "host");
  const bundle = join(top, "bundle");
  const copy = join(bundle, IDMAP_DIR, "0");
  await mkdir(host);
  await writeFile(join(host, "precious"), "keep\n");
  await mkdir(copy, { recursive: true });
  await run("mount", ["--bind", host, copy]);

  await releaseIdmapCopies([bundle, join(top, "data-without-idmap")]);
  const mounts = (await readFile("/proc/self/mountinfo", "utf8")).split("\n").filter((l) => l.split(" ")[4]?.startsWith(copy));
  assert.deepEqual(mounts, []);
  await rm(bundle, { recursive: true, force: true });
  assert.deepEqual(await readdir(host), ["precious"]);
  // A container that never had copies: nothing to do, no error.
  await releaseIdmapCopies([join(top, "none")]);
});
