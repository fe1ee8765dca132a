// CDI devices end to end: a spec the test writes into a directory named by cdi.spec_dirs gives a
// container a /dev/null-style node, an env var and a host dir; an unknown device fails cleanly.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test, type TestContext } from "node:test";
import { status as grpc, type ServiceError } from "@grpc/grpc-js";
import { ContainerState } from "../../src/generated/runtime/v1/api.js";
import { removePod } from "./pods-kit.js";
import { createCtr, ctrConfig, ctrEnv, listCtrs, logText, runPodWithLogs, sharedRegistry, startCtr, waitState, type CtrEnv, type Registry } from "./containers-kit.js";

const code = (c: number, re?: RegExp) => (e: ServiceError) => e.code === c && (!re || re.test(e.details));

let r: Registry & { stop(): Promise<void> };
before(async () => {
  r = await sharedRegistry();
});
after(async () => {
  await r.stop();
});

/** A daemon whose only CDI spec directory is a fresh temp dir (plus a host dir to mount). */
async function cdiEnv(t: TestContext): Promise<{ env: CtrEnv; specDir: string; hostDir: string }> {
  const specDir = await mkdtemp(join(tmpdir(), "berth-cdi-specs-"));
  const hostDir = await mkdtemp(join(tmpdir(), "berth-cdi-host-"));
  t.after(() => Promise.all([rm(specDir, { recursive: true, force: true }), rm(hostDir, { recursive: true, force: true })]));
  const env = await ctrEnv(t, r, { runtimeToml: `\n[cdi]\nspec_dirs = ["${specDir}"]` });
  return { env, specDir, hostDir };
}

function nullSpec(hostDir: string, name = "dev0"): string {
  return `---
cdiVersion: "0.5.0"
kind: berth.test/null
containerEdits:
  env: ["BERTH_CDI_KIND=null"]
devices:
  - name: ${name}
    containerEdits:
      env: ["BERTH_CDI=${name}"]
      deviceNodes:
        - { path: /dev/berth-null, hostPath: /dev/null, permissions: rw }
      mounts:
        - { hostPath: ${hostDir}, containerPath: /cdi-mnt, options: [rbind, ro, nosuid], type: bind }
`;
}

async function runOnce(env: CtrEnv, podId: string, o: Parameters<typeof ctrConfig>[1]): Promise<[number, string]> {
  const id = await createCtr(env, podId, ctrConfig(env, o));
  await startCtr(env.d, id);
  const s = await waitState(env.d, id, ContainerState.CONTAINER_EXITED);
  return [s.status!.exitCode, await logText(s.status!.logPath)];
}

const SCRIPT = [
  "echo data > /dev/berth-null && echo wrote-null",
  "head -c 4 /dev/berth-null | wc -c",
  "stat -c 'node=%F %t:%T' /dev/berth-null",
  "echo kind=$BERTH_CDI_KIND dev=$BERTH_CDI",
  "cat /cdi-mnt/hello",
  "touch /cdi-mnt/x 2>/dev/null || echo mount-ro",
].join("; ");

test("a CDI device from a test spec: the node (writable), the env vars and the mount appear in the container", async (t) => {
  const { env, specDir, hostDir } = await cdiEnv(t);
  await writeFile(join(hostDir, "hello"), "hello from the host\n");
  await writeFile(join(specDir, "null.yaml"), nullSpec(hostDir));
  const podId = await runPodWithLogs(env);
  const [exit, out] = await runOnce(env, podId, { command: ["sh", "-c", SCRIPT], CDIDevices: [{ name: "berth.test/null=dev0" }] });
  assert.equal(exit, 0, out);
  assert.match(out, /^wrote-null$/m);
  assert.match(out, /^0$/m, "reads like /dev/null: empty");
  assert.match(out, /^node=character special file 1:3$/m);
  assert.match(out, /^kind=null dev=dev0$/m);
  assert.match(out, /^hello from the host$/m);
  assert.match(out, /^mount-ro$/m);

  // The older annotation form, as device plugins wrote it before CDI_devices existed.
  const [exit2, out2] = await runOnce(env, podId, { command: ["sh", "-c", "echo dev=$BERTH_CDI; echo x > /dev/berth-null && echo wrote-null"], annotations: { "cdi.k8s.io/berth-test": "berth.test/null=dev0" } });
  assert.equal(exit2, 0, out2);
  assert.match(out2, /^dev=dev0$/m);
  assert.match(out2, /^wrote-null$/m);
  await removePod(env.d, podId);
  await env.leaks.assertNoLeaks();
});

test("an unknown CDI device: InvalidArgument naming it and the spec dir, nothing left behind; a spec written later is used without a restart", async (t) => {
  const { env, specDir, hostDir } = await cdiEnv(t);
  await writeFile(join(specDir, "null.json"), JSON.stringify({ cdiVersion: "0.5.0", kind: "berth.test/null", devices: [{ name: "dev0", containerEdits: { env: ["A=1"] } }] }));
  await writeFile(join(specDir, "broken.yaml"), "cdiVersion: 0.5.0\nkind: broken\ndevices: []\n");
  const podId = await runPodWithLogs(env);
  const esc = specDir.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  await assert.rejects(
    createCtr(env, podId, ctrConfig(env, { command: ["true"], CDIDevices: [{ name: "berth.test/null=gpu7" }] })),
    code(grpc.INVALID_ARGUMENT, new RegExp(`CDI device "berth\\.test/null=gpu7" \\(CDI_devices\\[0\\]\\) not found in the CDI specs in ${esc} .*that kind defines berth\\.test/null=dev0.*broken\\.yaml`)),
  );
  await assert.rejects(createCtr(env, podId, ctrConfig(env, { CDIDevices: [{ name: "gpu7" }] })), code(grpc.INVALID_ARGUMENT, /"gpu7" is not a fully qualified CDI device name/));
  assert.equal((await listCtrs(env.d)).length, 0);
  await removePod(env.d, podId);
  await env.leaks.assertNoLeaks();

  await writeFile(join(specDir, "gpu.yaml"), nullSpec(hostDir, "gpu7"));
  const podId2 = await runPodWithLogs(env);
  const [exit, out] = await runOnce(env, podId2, { command: ["sh", "-c", "echo dev=$BERTH_CDI"], CDIDevices: [{ name: "berth.test/null=gpu7" }] });
  assert.equal(exit, 0, out);
  assert.match(out, /^dev=gpu7$/m);
  await removePod(env.d, podId2);
  await env.leaks.assertNoLeaks();
});
