// The container index: records persisted in SQLite and read back, IDs by unique prefix (an
// ambiguous one names the candidates), hidden half-made ones, and layer use counted for image GC.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ContainerContext, type ContainerDeps } from "../../../src/containers/context.js";
import { containerFromRecord, type ContainerRecord } from "../../../src/containers/record.js";
import { ContainerStore } from "../../../src/containers/store.js";
import { select } from "../../../src/containers/list.js";
import { BerthError, Code } from "../../../src/errors.js";
import { ContainerConfig } from "../../../src/generated/runtime/v1/api.js";
import { Store } from "../../../src/store/db.js";

function record(id: string, o: Partial<ContainerRecord> = {}): ContainerRecord {
  return {
    v: 1, id, podId: "c".repeat(64), phase: "created", createdAt: "1", startedAt: "0", finishedAt: "0", exitCode: 0, reason: "", message: "",
    config: ContainerConfig.toJSON(ContainerConfig.fromPartial({ metadata: { name: id.slice(0, 4), attempt: 0 }, labels: { app: id.slice(0, 1) } })),
    resources: null, image: { name: "busybox", id: "sha256:x", chainIds: ["sha256:l1", "sha256:l2"] }, paths: { bundle: "/b", dir: "/d" },
    mounted: false, logPath: "", cgroupsPath: "/c", cgroupPath: "/c", user: { uid: 0, gid: 0, additionalGids: [] }, ...o,
  };
}

test("save/load round trip, prefixes, hidden creating records, layer use", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berth-ctx-"));
  const db = Store.open(join(dir, "berth.db"));
  t.after(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });
  const pods = { all: () => ["c", "d"].map((x) => ({ rec: { id: x.repeat(64) } })) };
  const ctx = new ContainerContext({ store: new ContainerStore(db), pods } as unknown as ContainerDeps);
  const a = containerFromRecord(record(`abc${"0".repeat(61)}`));
  const b = containerFromRecord(record(`abd${"0".repeat(61)}`, { podId: "d".repeat(64) }));
  const hidden = containerFromRecord(record(`ffff${"0".repeat(60)}`, { phase: "creating", image: { name: "x", id: "sha256:y", chainIds: ["sha256:l3"] } }));
  for (const c of [a, b, hidden]) ctx.save(c);

  assert.equal(ctx.get("abc").rec.id, a.rec.id);
  assert.throws(() => ctx.get("ab"), (e: unknown) => e instanceof BerthError && e.code === Code.INVALID_ARGUMENT && /ambiguous/.test(e.message));
  assert.throws(() => ctx.get("ffff"), (e: unknown) => e instanceof BerthError && e.code === Code.NOT_FOUND, "a half-made container is invisible");
  assert.equal(ctx.find("zz"), undefined);
  assert.deepEqual(select(ctx, { podSandboxId: "d" }).map((c) => c.rec.id), [b.rec.id]);
  assert.deepEqual(select(ctx, { labelSelector: { app: "a" } }).length, 2);

  assert.ok(ctx.layerInUse("sha256:l1") && ctx.layerInUse("sha256:l3"));
  ctx.drop(a);
  assert.ok(ctx.layerInUse("sha256:l1"), "b still uses it");
  ctx.drop(b);
  assert.ok(!ctx.layerInUse("sha256:l1"));
  ctx.save(b);
  ctx.save(b);
  ctx.drop(b);
  assert.ok(!ctx.layerInUse("sha256:l2"), "saving twice counts once");

  const reloaded = new ContainerStore(db).all().map((r) => r.id);
  assert.deepEqual(reloaded, [hidden.rec.id]);
});
