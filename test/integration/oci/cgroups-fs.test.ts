// The cgroupfs driver on this host's real hierarchies: a pod cgroup made in every hierarchy
// (cpuset seeded), a process placed in a leaf, removal bottom-up, and its retry on busy cgroups.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFile, rmdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { openCgroupDriver } from "../../../src/oci/cgroups-driver.js";
import { cgroupHierarchies } from "../../../src/oci/cgroups-hierarchies.js";

const exists = (p: string) => stat(p).then(() => true, () => false);

test("creates the pod cgroup everywhere, places a process in a leaf, removes it all", async (t) => {
  const parent = `/berth-unit-${process.pid}`;
  const hs = await cgroupHierarchies();
  const driver = await openCgroupDriver({ name: "cgroupfs", defaultParent: parent });
  const pc = driver.podCgroup("", "uid-1");
  t.after(async () => {
    await driver.remove(pc).catch(() => undefined);
    for (const h of hs) await rmdir(join(h.mount, parent)).catch(() => undefined);
  });
  assert.equal(pc.path, `${parent}/poduid-1`);
  assert.equal(await driver.exists(pc), false);
  assert.equal(await driver.create(pc), true);
  assert.equal(await driver.exists(pc), true);
  assert.equal(await driver.create(pc), false, "second create: already there, not ours to remove");
  for (const h of hs) assert.ok(await exists(join(h.mount, pc.path)), `${h.mount}${pc.path}`);
  const cpuset = hs.find((h) => h.controllers.includes("cpuset"));
  if (cpuset) assert.notEqual((await readFile(join(cpuset.mount, pc.path, "cpuset.cpus"), "utf8")).trim(), "", "cpuset seeded from the parent");

  const place = await driver.placement(pc, "berth-infra");
  assert.equal(place.leaf, `${pc.path}/berth-infra`);
  const sleeper = spawn("sleep", ["30"], { stdio: "ignore" });
  t.after(() => sleeper.kill("SIGKILL"));
  await place.adopt([sleeper.pid!]);
  const memory = hs.find((h) => h.controllers.includes("memory")) ?? hs[0]!;
  assert.match(await readFile(join(memory.mount, place.leaf!, "cgroup.procs"), "utf8"), new RegExp(`^${sleeper.pid}$`, "m"));
  // Busy: removal retries for a while, then names the process.
  await assert.rejects(driver.remove(pc), (e: Error) => e.message.includes(String(sleeper.pid)));
  sleeper.kill("SIGKILL");
  await once(sleeper, "exit");
  await driver.remove(pc);
  await driver.remove(pc);
  for (const h of hs) assert.equal(await exists(join(h.mount, pc.path)), false);
});

test("pods created at once under a new shared parent all succeed (no EEXIST race on the parent)", async (t) => {
  const parent = `/berth-unit-race-${process.pid}`;
  const hs = await cgroupHierarchies();
  const driver = await openCgroupDriver({ name: "cgroupfs", defaultParent: parent });
  const pcs = Array.from({ length: 8 }, (_, i) => driver.podCgroup("", `race-${i}`));
  t.after(async () => {
    for (const pc of pcs) await driver.remove(pc).catch(() => undefined);
    for (const h of hs) await rmdir(join(h.mount, parent)).catch(() => undefined);
  });
  const made = await Promise.all(pcs.map((pc) => driver.create(pc)));
  assert.deepEqual(made, pcs.map(() => true), "each pod's own cgroup is made (and owned) by its call");
  for (const pc of pcs) for (const h of hs) assert.ok(await exists(join(h.mount, pc.path)), `${h.mount}${pc.path}`);
});

test("pods and their process leaves made at once under a brand-new parent all get a seeded cpuset and take a process", async (t) => {
  // The race behind ENOSPC at CreateContainer: one call made the new parent and had not yet
  // copied cpuset.cpus/mems into it when another saw it existing and seeded its child from the
  // empty parent; a process then could not join the child's leaf (cgroup v1 cpuset: ENOSPC).
  const hs = await cgroupHierarchies();
  const cpuset = hs.find((h) => h.kind === "v1" && h.controllers.includes("cpuset"));
  if (!cpuset) return t.skip("no cgroup v1 cpuset hierarchy on this host");
  const parent = `/berth-unit-seed-${process.pid}/a/b`;
  const driver = await openCgroupDriver({ name: "cgroupfs", defaultParent: parent });
  const pcs = Array.from({ length: 10 }, (_, i) => driver.podCgroup("", `seed-${i}`));
  const sleepers: ReturnType<typeof spawn>[] = [];
  t.after(async () => {
    for (const s of sleepers) s.kill("SIGKILL");
    await Promise.all(sleepers.map((s) => (s.exitCode === null && s.signalCode === null ? once(s, "exit") : undefined)));
    for (const pc of pcs) await driver.remove(pc).catch(() => undefined);
    for (const p of [parent, `/berth-unit-seed-${process.pid}/a`, `/berth-unit-seed-${process.pid}`]) for (const h of hs) await rmdir(join(h.mount, p)).catch(() => undefined);
  });
  const places = await Promise.all(pcs.map((pc) => driver.create(pc).then(() => driver.placement(pc, "conmon-x"))));
  for (const pc of pcs) {
    for (const f of ["cpuset.cpus", "cpuset.mems"]) {
      assert.notEqual((await readFile(join(cpuset.mount, pc.path, f), "utf8")).trim(), "", `${pc.path}/${f} seeded`);
      assert.notEqual((await readFile(join(cpuset.mount, pc.path, "conmon-x", f), "utf8")).trim(), "", `${pc.path}/conmon-x/${f} seeded`);
    }
  }
  await Promise.all(places.map(async (place) => {
    const s = spawn("sleep", ["30"], { stdio: "ignore" });
    sleepers.push(s);
    await place.adopt([s.pid!]);
  }));
});
