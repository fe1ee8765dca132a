// The Stream* list RPCs against their List twins on a real daemon holding 1,000+ containers
// (made as store records: see the test), each item exactly once, filters as in List; and the
// metric RPCs: every metric returned is named by a descriptor with matching label counts.
import assert from "node:assert/strict";
import { once } from "node:events";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, test } from "node:test";
import type { ClientReadableStream } from "@grpc/grpc-js";
import { call } from "../../src/cli/client.js";
import { ContainerState } from "../../src/generated/runtime/v1/api.js";
import type { Daemon } from "../fixtures/daemon.js";
import { removePod } from "./pods-kit.js";
import { createCtr, ctrConfig, ctrEnv, listCtrs, runPodWithLogs, sharedRegistry, startCtr, type Registry } from "./containers-kit.js";

let r: Registry & { stop(): Promise<void> };
before(async () => {
  r = await sharedRegistry();
});
after(async () => {
  await r.stop();
});

const CLONES = 1000;

async function collect<T>(s: ClientReadableStream<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const m of s) out.push(m as T);
  return out;
}

const hex64 = (i: number) => i.toString(16).padStart(8, "0").repeat(8);

/** Adds `CLONES` exited containers to pod `podId` as store records, cloned from `model` (daemon stopped). */
function addRecords(root: string, model: string, podId: string): string[] {
  const db = new DatabaseSync(join(root, "berth.db"));
  try {
    const row = db.prepare("SELECT data FROM containers WHERE id = ?").get(model) as { data: string };
    const base = JSON.parse(row.data) as Record<string, unknown> & { config: { metadata: { name: string }; labels: Record<string, string> }; paths: { bundle: string; dir: string } };
    const insert = db.prepare("INSERT INTO containers (id, pod_id, data) VALUES (?, ?, ?)");
    const ids: string[] = [];
    db.exec("BEGIN");
    for (let i = 0; i < CLONES; i++) {
      const id = hex64(i + 1);
      const rec = {
        ...base, id, podId, phase: "exited", exitCode: 0, reason: "Completed", message: "", startedAt: "1", finishedAt: "2", process: undefined,
        mounted: false, logPath: "", conmonLeaf: undefined,
        config: { ...base.config, metadata: { name: `clone-${i}`, attempt: 0 }, labels: { ...base.config.labels, ctr: `clone-${i}`, parity: i % 2 ? "odd" : "even" } },
        paths: { bundle: `${base.paths.bundle}-clone-${i}`, dir: `${base.paths.dir}-clone-${i}` },
      };
      insert.run(id, podId, JSON.stringify(rec));
      ids.push(id);
    }
    db.exec("COMMIT");
    return ids;
  } finally {
    db.close();
  }
}

function dropRecords(root: string, ids: string[]): void {
  const db = new DatabaseSync(join(root, "berth.db"));
  try {
    const del = db.prepare("DELETE FROM containers WHERE id = ?");
    for (const id of ids) del.run(id);
  } finally {
    db.close();
  }
}

async function stop(d: Daemon): Promise<void> {
  d.client.close();
  d.proc.kill("SIGTERM");
  await once(d.proc, "exit");
}

test("every Stream* RPC returns its List twin's items exactly once, with 1,000+ containers and List's filters; metrics match descriptors", async (t) => {
  const env = await ctrEnv(t, r);
  const root = env.d.root;
  const p1 = await runPodWithLogs(env);
  const p2 = await runPodWithLogs(env);
  const running = await createCtr(env, p1, ctrConfig(env, { name: "run", command: ["sleep", "1000"] }));
  await startCtr(env.d, running);
  const created = await createCtr(env, p1, ctrConfig(env, { name: "made", command: ["sleep", "1000"] }));
  const other = await createCtr(env, p2, ctrConfig(env, { name: "other", command: ["sleep", "1000"] }));
  await startCtr(env.d, other);

  // 1,000 real containers would mean 1,000 conmon + runc init processes (GBs of memory on this
  // box); exited containers as store records exercise the same listing and streaming paths.
  await stop(env.d);
  const clones = addRecords(root, created, p2);
  let t0 = performance.now();
  const d = await env.restart();
  t.diagnostic(`restart with ${CLONES + 3} containers: ${Math.round(performance.now() - t0)} ms`);
  const c = d.client;

  const filters = [
    {},
    { podSandboxId: p1 },
    { podSandboxId: p2.slice(0, 12) },
    { id: other },
    { state: { state: ContainerState.CONTAINER_EXITED } },
    { labelSelector: { parity: "odd" } },
  ];
  for (const f of filters) {
    const filter = { id: "", podSandboxId: "", state: undefined, labelSelector: {}, ...f };
    t0 = performance.now();
    const list = (await call(c, c.runtime, c.runtime.listContainers, { filter })).containers;
    const listMs = performance.now() - t0;
    t0 = performance.now();
    const msgs = await collect(c.runtime.streamContainers({ filter }));
    const streamMs = performance.now() - t0;
    const streamed = msgs.flatMap((m) => m.containers);
    assert.deepEqual(streamed, list, `StreamContainers ${JSON.stringify(f)}`);
    assert.equal(new Set(streamed.map((x) => x.id)).size, streamed.length, "each container once");
    assert.ok(msgs.every((m) => m.containers.length > 0 && m.containers.length <= 100), "chunks of at most 100");
    if (Object.keys(f).length === 0) {
      assert.equal(list.length, CLONES + 3);
      t.diagnostic(`ListContainers ${list.length}: ${listMs.toFixed(1)} ms; StreamContainers: ${streamMs.toFixed(1)} ms in ${msgs.length} messages`);
    }
  }
  assert.equal((await collect(c.runtime.streamContainers({ filter: { id: "", podSandboxId: p2, state: undefined, labelSelector: { parity: "even" } } }))).flatMap((m) => m.containers).length, CLONES / 2);

  for (const f of [{}, { id: p1 }, { labelSelector: { app: "nope" } }]) {
    const filter = { id: "", state: undefined, labelSelector: {}, ...f };
    const list = (await call(c, c.runtime, c.runtime.listPodSandbox, { filter })).items;
    const streamed = (await collect(c.runtime.streamPodSandboxes({ filter }))).flatMap((m) => m.podSandboxes);
    assert.deepEqual(streamed, list, `StreamPodSandboxes ${JSON.stringify(f)}`);
  }

  const ids = <T extends { attributes?: { id: string } | undefined }>(xs: T[]) => xs.map((x) => x.attributes?.id);
  for (const f of [{}, { podSandboxId: p1 }, { id: running }]) {
    const filter = { id: "", podSandboxId: "", labelSelector: {}, ...f };
    const list = (await call(c, c.runtime, c.runtime.listContainerStats, { filter })).stats;
    const streamed = (await collect(c.runtime.streamContainerStats({ filter }))).flatMap((m) => m.containerStats);
    assert.deepEqual(ids(streamed), ids(list), `StreamContainerStats ${JSON.stringify(f)}`);
    assert.equal(new Set(ids(streamed)).size, streamed.length);
  }
  for (const f of [{}, { id: p2 }]) {
    const filter = { id: "", labelSelector: {}, ...f };
    const list = (await call(c, c.runtime, c.runtime.listPodSandboxStats, { filter })).stats;
    const streamed = (await collect(c.runtime.streamPodSandboxStats({ filter }))).flatMap((m) => m.podSandboxStats);
    assert.deepEqual(ids(streamed), ids(list), `StreamPodSandboxStats ${JSON.stringify(f)}`);
  }
  const images = (await call(c, c.image, c.image.listImages, { filter: undefined })).images;
  assert.deepEqual((await collect(c.image.streamImages({ filter: undefined }))).flatMap((m) => m.images), images);
  assert.ok(images.length > 0);

  // Metrics: the running containers only, every metric named by a descriptor.
  const descriptors = (await call(c, c.runtime, c.runtime.listMetricDescriptors, {})).descriptors;
  assert.deepEqual((await call(c, c.runtime, c.runtime.listMetricDescriptors, {})).descriptors, descriptors, "descriptors do not change");
  const byName = new Map(descriptors.map((x) => [x.name, x]));
  const pm = (await call(c, c.runtime, c.runtime.listPodSandboxMetrics, {})).podMetrics;
  const streamedPm = (await collect(c.runtime.streamPodSandboxMetrics({}))).flatMap((m) => m.podSandboxMetrics);
  const shape = (xs: typeof pm) => xs.map((p) => [p.podSandboxId, p.containerMetrics.map((m) => m.containerId)]);
  assert.deepEqual(shape(streamedPm), shape(pm));
  assert.deepEqual(shape(pm).sort(), [[p1, [running]], [p2, [other]]].sort());
  const all = pm.flatMap((p) => [...p.metrics, ...p.containerMetrics.flatMap((m) => m.metrics)]);
  for (const m of all) {
    const desc = byName.get(m.name);
    assert.ok(desc, `${m.name} has a descriptor`);
    assert.equal(m.labelValues.length, desc.labelKeys.length, m.name);
  }
  const names = new Set(all.map((m) => m.name));
  for (const n of ["container_cpu_usage_seconds_total", "container_memory_working_set_bytes", "container_memory_usage_bytes", "container_processes", "container_network_receive_bytes_total"]) {
    assert.ok(names.has(n), `${n} is reported`);
  }

  // Clean-up without 1,000 runc deletes: the records go while the daemon is down.
  await stop(d);
  dropRecords(root, clones);
  const d2 = await env.restart();
  assert.equal((await listCtrs(d2)).length, 3);
  await removePod(d2, p1);
  await removePod(d2, p2);
  await env.leaks.assertNoLeaks();
});
