// A full disk under the daemon's root and state (a small tmpfs): a pull and a CreateContainer
// fail with RESOURCE_EXHAUSTED naming the filesystem, leave nothing half-written, and the daemon
// keeps serving; once space is freed, the same calls succeed.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, test } from "node:test";
import { status as grpc, type ServiceError } from "@grpc/grpc-js";
import { pushBusybox, type PushedImage } from "../fixtures/images.js";
import { createCtr, ctrConfig, ctrEnv, listCtrs, pull, removeCtr, runPodWithLogs, sharedRegistry, startCtr, stopCtr, type Registry } from "./containers-kit.js";

const run = promisify(execFile);
const full = (e: ServiceError): boolean => e.code === grpc.RESOURCE_EXHAUSTED && /no space left/.test(e.details) && /free space/.test(e.details);
const ls = async (dir: string): Promise<string[]> => (await readdir(dir).catch(() => [] as string[])).sort();

let r: Registry & { stop(): Promise<void> };
let other: PushedImage;
before(async () => {
  r = await sharedRegistry();
  other = await pushBusybox(r.reg, "other", "v1", "zstd");
});
after(async () => {
  await r.stop();
});

test("ENOSPC during a pull and a create: RESOURCE_EXHAUSTED, nothing half-written, daemon serving; freed space lets both succeed", async (t) => {
  const mnt = await mkdtemp(join(tmpdir(), "berth-full-"));
  await run("mount", ["-t", "tmpfs", "-o", "size=48m,mode=0700", "tmpfs", mnt]);
  const unmount = async (): Promise<void> => {
    await run("umount", [mnt]).catch(() => run("umount", ["-l", mnt]));
    await rmdir(mnt);
  };
  const root = join(mnt, "root");
  const state = join(mnt, "state");
  let env: Env;
  try {
    env = await ctrEnv(t, r, { env: { BERTH_ROOT: root, BERTH_STATE: state } });
  } catch (err) {
    await unmount();
    throw err;
  }
  t.after(unmount); // after the env's own clean-up (hooks run in order)
  const { d } = env;
  const podId = await runPodWithLogs(env);
  const before = { layers: await ls(join(root, "layers")), containers: await ls(join(root, "containers")), bundles: await ls(join(state, "containers")) };

  const filler = join(mnt, "filler");
  await run("dd", ["if=/dev/zero", `of=${filler}`, "bs=64k"]).catch(() => undefined); // stops at ENOSPC
  try {
    await whileFull(env, podId, root, state, before);
  } finally {
    await rm(filler, { force: true }); // the env's clean-up needs space to remove the pod
  }

  await pull(d, other.reference);
  const id = await createCtr(env, podId, ctrConfig(env, { command: ["sleep", "1000"] }));
  await startCtr(d, id);
  await stopCtr(d, id, 2n);
  await removeCtr(d, id);
});

type Env = Awaited<ReturnType<typeof ctrEnv>>;

async function whileFull(env: Env, podId: string, root: string, state: string, before: Record<"layers" | "containers" | "bundles", string[]>): Promise<void> {
  const { d } = env;
  await assert.rejects(pull(d, other.reference), full);
  assert.deepEqual(await ls(join(root, "content", "ingest")), [], "no partial or temp file left");
  assert.deepEqual(await ls(join(root, "layers")), before.layers, "no half-unpacked layer left");
  await assert.rejects(createCtr(env, podId, ctrConfig(env, { command: ["sleep", "1000"] })), full);
  assert.deepEqual(await ls(join(root, "containers")), before.containers, "no writable layer left");
  assert.deepEqual(await ls(join(state, "containers")), before.bundles, "no bundle left");
  assert.deepEqual((await listCtrs(d)).length, 0, "the daemon keeps serving");
  assert.match(d.logs(), /no space left/);
}
