// Exit recording: an exit reported for a container that RemoveContainer dropped meanwhile (while
// the OOM flag was being read) must not bring its record back into the index or the store.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ContainerContext, type ContainerDeps } from "../../../src/containers/context.js";
import { onExit, recordExit } from "../../../src/containers/exits.js";
import { containerFromRecord, type ContainerRecord } from "../../../src/containers/record.js";
import { ContainerConfig } from "../../../src/generated/runtime/v1/api.js";

function record(id: string): ContainerRecord {
  return {
    v: 1, id, podId: "p".repeat(64), phase: "running", createdAt: "1", startedAt: "2", finishedAt: "0", exitCode: 0, reason: "", message: "",
    config: ContainerConfig.toJSON(ContainerConfig.fromPartial({ metadata: { name: "c", attempt: 0 } })),
    resources: null, image: { name: "busybox", id: "sha256:x", chainIds: ["sha256:l1"] }, paths: { bundle: "/b", dir: "/d" },
    mounted: false, logPath: "", cgroupsPath: "/c", cgroupPath: "/c", user: { uid: 0, gid: 0, additionalGids: [] },
  };
}

function fakeCtx(oomDelayMs: number) {
  const stored = new Map<string, ContainerRecord>();
  const store = { put: (r: ContainerRecord) => void stored.set(r.id, r), delete: (id: string) => void stored.delete(id), all: () => [...stored.values()] };
  const oci = { oomKilled: () => new Promise<boolean>((r) => setTimeout(() => r(false), oomDelayMs)) };
  return { ctx: new ContainerContext({ store, oci } as unknown as ContainerDeps), stored };
}

test("an exit reported while the container is being removed does not resurrect its record", async () => {
  const { ctx, stored } = fakeCtx(20);
  const c = containerFromRecord(record("a".repeat(64)));
  ctx.save(c);
  onExit(ctx)({ id: c.rec.id, code: 137, timestampNs: 5n });
  ctx.drop(c); // RemoveContainer finishes before the OOM flag is read
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(ctx.containers.has(c.rec.id), false);
  assert.equal(stored.has(c.rec.id), false);
  assert.equal(ctx.layerInUse("sha256:l1"), false, "its layers stay free for image GC");
});

test("an exit of an indexed container is recorded once, with the reason", async () => {
  const { ctx, stored } = fakeCtx(1);
  const c = containerFromRecord(record("b".repeat(64)));
  ctx.save(c);
  onExit(ctx)({ id: c.rec.id, code: 7, timestampNs: 9n });
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual([c.rec.phase, c.rec.exitCode, c.rec.reason, c.rec.finishedAt], ["exited", 7, "Error", "9"]);
  assert.equal(stored.get(c.rec.id)?.phase, "exited");
  recordExit(ctx, c, { code: 0, timestampNs: 10n }, false);
  assert.equal(c.rec.exitCode, 7, "a later report changes nothing");
});
