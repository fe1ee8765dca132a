// The idmapped-mount driver against the real kernel: a user namespace with written maps, an
// idmapped copy of a tmpfs, and the start-up probe, each leaving no mount or process behind.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { detachMount, idmapBind } from "../../../src/oci/idmap.js";
import { probeIdmappedMounts } from "../../../src/oci/idmap-probe.js";
import { mountTool } from "../../../src/oci/mount.js";
import { makeUserns } from "../../../src/oci/userns.js";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-idmap-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const mounted = async (under: string) => (await readFile("/proc/self/mountinfo", "utf8")).split("\n").filter((l) => l.split(" ")[4]?.startsWith(under));

test("a user namespace with the given maps; an idmapped copy shows host root's files as the mapped root, and detaches", async () => {
  const map = [{ containerId: 0, hostId: 65536 * 7, length: 65536 }];
  const holder = await makeUserns({}, [], map, map);
  const src = join(dir, "src");
  const copy = join(dir, "copy");
  await mkdir(src);
  await mkdir(copy);
  await mountTool("mount", ["-t", "tmpfs", "tmpfs", src]);
  try {
    assert.equal((await readFile(`/proc/${holder.pid}/uid_map`, "utf8")).trim().split(/\s+/).join(" "), `0 ${65536 * 7} 65536`);
    await writeFile(join(src, "f"), "");
    idmapBind(src, copy, `/proc/${holder.pid}/ns/user`, false);
    assert.equal((await stat(join(copy, "f"))).uid, 65536 * 7);
    assert.equal((await stat(join(src, "f"))).uid, 0, "the source keeps its owner");
    detachMount(copy);
    assert.deepEqual(await mounted(copy), []);
  } finally {
    await holder.release();
    await mountTool("umount", [src]);
  }
});

test("the probe finds this host able (runc 1.1.5, Linux 6.18) and leaves nothing in its dir", async () => {
  const work = join(dir, "probe");
  assert.deepEqual(await probeIdmappedMounts(work, "runc"), { ok: true });
  assert.deepEqual(await readdir(work), []);
  assert.deepEqual(await mounted(work), []);
  const missing = await probeIdmappedMounts(work, "/nonexistent/runc");
  assert.equal(missing.ok, false);
  assert.match(missing.ok ? "" : missing.reason, /\/nonexistent\/runc features does not list the user namespace/);
});
