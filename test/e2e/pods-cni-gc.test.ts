// GC of CNI cache entries of pods Berth no longer has (removed while it was down, a kill -9
// mid-teardown): DEL runs from the entry (lease released, veth gone); live and new pods keep theirs.
import assert from "node:assert/strict";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
import { forceCleanup } from "../fixtures/leaks.js";
import { podInfo, removePod, run, runPod, type PodEnv } from "./pods-kit.js";
import { podEnv } from "./pods-kit.js";

interface Entry {
  result: { interfaces?: Array<{ name: string; sandbox?: string }>; ips?: Array<{ address: string }> };
}

// The first daemon's dirs: a restarted one runs on them (its own `root` names a fresh temp dir).
const entryPath = (env: PodEnv, id: string): string => join(env.leaks.scope.root[0]!, "cni-cache", `${env.network}-${id}-eth0.json`);
const leasePath = (env: PodEnv, ip: string): string => join(env.ipamDir, env.network, ip);

async function attachment(env: PodEnv, id: string): Promise<{ ip: string; veth: string; entry: string }> {
  const text = await readFile(entryPath(env, id), "utf8");
  const e = JSON.parse(text) as Entry;
  const ip = e.result.ips![0]!.address.split("/")[0]!;
  const veth = e.result.interfaces!.find((i) => !i.sandbox && i.name !== env.bridge)!.name;
  return { ip, veth, entry: text };
}

const linkExists = (name: string): Promise<boolean> => run("ip", ["link", "show", name]).then(() => true, () => false);

test("CNI cache entries of pods removed while Berth was down get DEL from the entry at start; a live pod's entry is untouched", async (t) => {
  const env = await podEnv(t);
  const live = await runPod(env.d, { name: "live" });
  const goneNs = await runPod(env.d, { name: "gone-netns" }); // its netns is gone too: DEL without one
  const gonePin = await runPod(env.d, { name: "gone-record" }); // only its record is gone: DEL in the netns
  const a = { live: await attachment(env, live), goneNs: await attachment(env, goneNs), gonePin: await attachment(env, gonePin) };
  const goneNsInfo = await podInfo(env.d, goneNs);
  for (const x of Object.values(a)) assert.ok(existsSync(leasePath(env, x.ip)), `lease of ${x.ip} exists`);

  env.d.client.close();
  env.d.proc.kill("SIGKILL");
  await once(env.d.proc, "exit");
  // What a removal cut short would leave: no record, the CNI side not released.
  const { root, state } = env.d;
  const db = new DatabaseSync(join(root, "berth.db"));
  db.prepare("DELETE FROM pods WHERE id IN (?, ?)").run(goneNs, gonePin);
  db.close();
  await run("umount", [goneNsInfo.namespaces.net!]);
  assert.equal(await linkExists(a.goneNs.veth), false, "the kernel took the veth with the netns");

  const d = await env.restart();
  for (const x of [a.goneNs, a.gonePin]) assert.equal(existsSync(leasePath(env, x.ip)), false, `the IPAM lease of ${x.ip} is released`);
  assert.equal(existsSync(entryPath(env, goneNs)), false, "the cache entry of the pod without a netns is gone");
  assert.equal(existsSync(entryPath(env, gonePin)), false, "the cache entry of the pod with a netns is gone");
  assert.equal(await linkExists(a.gonePin.veth), false, "DEL in the still-pinned netns removed the veth");
  assert.equal((d.logs().match(/CNI GC: ran DEL for a pod Berth no longer has/g) ?? []).length, 2, "each collection is logged");
  // The live pod keeps its entry, lease and veth.
  assert.equal(await readFile(entryPath(env, live), "utf8"), a.live.entry);
  assert.ok(existsSync(leasePath(env, a.live.ip)));
  assert.ok(await linkExists(a.live.veth));

  // The rest of the two half-removed pods (pins, shm, cgroups, dirs) is not this collector's: cleared here.
  await removePod(d, live);
  await forceCleanup(env.leaks.scope);
  for (const id of [goneNs, gonePin]) {
    await rm(join(state, "pods", id), { recursive: true, force: true });
    for (const kind of await readdir(join(state, "ns"))) await rm(join(state, "ns", kind, id), { force: true });
  }
  await env.leaks.assertNoLeaks();
});

test("pods run while the collectors run every few ms keep their CNI cache entries, leases and the log directories Berth made", async (t) => {
  const env = await podEnv(t, { env: { BERTH_IMAGES_GC_INTERVAL: "5ms" } });
  const logDir = (i: number): string => join(env.d.dir, "logs", `race-${i}`);
  const ids = await Promise.all(Array.from({ length: 8 }, (_, i) => runPod(env.d, { name: `race-${i}`, config: { logDirectory: logDir(i) } })));
  await new Promise((r) => setTimeout(r, 200)); // more scheduled collections
  for (const [i, id] of ids.entries()) {
    const x = await attachment(env, id);
    assert.ok(existsSync(leasePath(env, x.ip)), `pod ${id} keeps its lease`);
    assert.ok(await linkExists(x.veth), `pod ${id} keeps its veth`);
    assert.ok(existsSync(logDir(i)), `pod ${id} keeps its log directory`);
  }
  assert.doesNotMatch(env.d.logs(), /CNI GC|log directory Berth made for a pod it no longer has/);
  for (const id of ids) await removePod(env.d, id);
  for (const i of ids.keys()) assert.equal(existsSync(logDir(i)), false, "Remove took the log directory Berth made");
  await env.leaks.assertNoLeaks();
});
