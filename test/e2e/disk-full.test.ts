// A full disk under the daemon's root and state (a small tmpfs): a pull and a CreateContainer
// fail with RESOURCE_EXHAUSTED naming the filesystem, leave nothing half-written, and the daemon
// keeps serving; once space is freed, the same calls succeed. A full log directory: the container
// runs on, the daemon serves, the log stays readable and takes new lines once space returns.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, test } from "node:test";
import { status as grpc, type ServiceError } from "@grpc/grpc-js";
import { call } from "../../src/cli/client.js";
import { ContainerState } from "../../src/generated/runtime/v1/api.js";
import { pushBusybox, type PushedImage } from "../fixtures/images.js";
import {
  createCtr, ctrConfig, ctrEnv, ctrStatus, exec, listCtrs, logText, pull, removeCtr, runPodWithLogs, sharedRegistry, startCtr, stopCtr, waitLog, type Registry,
} from "./containers-kit.js";

const run = promisify(execFile);
const full = (e: ServiceError): boolean => e.code === grpc.RESOURCE_EXHAUSTED && /no space left/.test(e.details) && /free space/.test(e.details);
const ls = async (dir: string): Promise<string[]> => (await readdir(dir).catch(() => [] as string[])).sort();

/** A small tmpfs at a new temp dir; `unmount` takes it away (lazily if busy). */
async function smallTmpfs(size: string): Promise<{ mnt: string; unmount(): Promise<void> }> {
  const mnt = await mkdtemp(join(tmpdir(), "berth-full-"));
  await run("mount", ["-t", "tmpfs", "-o", `size=${size},mode=0700`, "tmpfs", mnt]);
  return {
    mnt,
    async unmount() {
      await run("umount", [mnt]).catch(() => run("umount", ["-l", mnt]));
      await rmdir(mnt);
    },
  };
}

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

test("ENOSPC in a log directory: the container runs on, the daemon serves, the log stays readable and takes new lines once space returns", async (t) => {
  const env = await ctrEnv(t, r);
  const { d } = env;
  const fs = await smallTmpfs("1m");
  t.after(fs.unmount); // after the env's clean-up, which removes the pod first
  const podId = await runPodWithLogs(env, { config: { logDirectory: join(fs.mnt, "pod") } });
  const id = await createCtr(env, podId, ctrConfig(env, { name: "talker", command: ["sh", "-c", "i=0; while true; do i=$((i+1)); echo line-$i; sleep 0.02; done"] }));
  await startCtr(d, id);
  const log = join(fs.mnt, "pod", "talker", "0.log");
  await waitLog(log, /line-3\n/);

  const filler = join(fs.mnt, "filler");
  await run("dd", ["if=/dev/zero", `of=${filler}`, "bs=4k"]).catch(() => undefined); // stops at ENOSPC
  await new Promise((res) => setTimeout(res, 1000)); // the container keeps writing into a full disk (conmon drops what does not fit)
  const status = await ctrStatus(d, id);
  assert.equal(status.status?.state, ContainerState.CONTAINER_RUNNING, "the container runs on");
  assert.equal(status.status?.logPath, log);
  assert.equal((await listCtrs(d)).length, 1, "the daemon keeps serving");
  assert.equal(Buffer.from((await exec(d, id, ["echo", "alive"])).stdout).toString(), "alive\n");
  const whileFull = await logText(log);
  assert.match(whileFull, /line-3\n/, "what was written stays readable");
  const newest = (text: string): number => Math.max(0, ...[...text.matchAll(/line-(\d+)\n/g)].map((m) => Number(m[1])));
  const last = newest(whileFull);

  await rm(filler);
  let after = "";
  for (let i = 0; i < 500 && newest(after) <= last + 5; i++) {
    await new Promise((res) => setTimeout(res, 20));
    after = await logText(log);
  }
  const raw = (await readFile(log, "utf8")).split("\n").filter(Boolean);
  assert.deepEqual(raw.filter((l) => !/^\S+ stdout F line-\d+$/.test(l)), [], "no line was cut by the full disk (lines that did not fit were dropped whole)");
  assert.ok(newest(after) > last + 5, `new lines are written once space returns (newest while full: ${last}, now ${newest(after)})`);
  assert.match(after, /line-\d+\n$/, "as whole lines");
  assert.equal((await ctrStatus(d, id)).status?.state, ContainerState.CONTAINER_RUNNING);
  await stopCtr(d, id, 0n);
  await removeCtr(d, id);
  await call(d.client, d.client.runtime, d.client.runtime.removePodSandbox, { podSandboxId: podId }, 60_000);
});
