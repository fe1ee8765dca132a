// Pods across daemon restarts, and the infra process of a pod with a shared PID namespace:
// pods are reloaded READY or NOTREADY as their pins say, the infra survives, all stay removable.
import assert from "node:assert/strict";
import { chmod, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { call } from "../../src/cli/client.js";
import { ListPodSandboxRequest, NamespaceMode, PodSandboxState } from "../../src/generated/runtime/v1/api.js";
import { findLeaks } from "../fixtures/leaks.js";
import { podEnv, podInfo, podStatus, removePod, run, runPod, stopPod } from "./pods-kit.js";

async function alive(pid: number): Promise<boolean> {
  try {
    const s = await readFile(`/proc/${pid}/stat`, "utf8");
    return s.slice(s.lastIndexOf(")") + 2, s.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

test("a shared PID namespace gets catatonit as PID 1, as nobody in a one-file root, in the pod cgroup; Stop ends it", async (t) => {
  const env = await podEnv(t);
  const { d } = env;
  const id = await runPod(d, { name: "shared", pid: NamespaceMode.POD });
  const info = await podInfo(d, id);
  assert.ok(info.pid > 0);
  const st = await readFile(`/proc/${info.pid}/status`, "utf8");
  assert.match(st, /^Uid:\s+65534\s/m);
  assert.match(st, /^NSpid:\s+\d+\s+1$/m, "PID 1 of its namespace");
  assert.match(st, /^CapEff:\s+0+$/m, "no capabilities");
  assert.match(await readFile(`/proc/${info.pid}/cmdline`, "utf8"), /^\/catatonit\0-P\0$/);
  assert.equal((await run("readlink", [`/proc/${info.pid}/root`])).stdout.trim(), join(d.state, "infra", "root"));
  // The pin is that namespace.
  const [pin, ns] = await Promise.all([stat(info.namespaces.pid!), stat(`/proc/${info.pid}/ns/pid`)]);
  assert.equal(pin.ino, ns.ino);
  const procs = await readFile(join("/sys/fs/cgroup/memory", info.cgroup.path, "berth-infra", "cgroup.procs"), "utf8");
  assert.ok(procs.split("\n").includes(String(info.pid)), "infra is in the pod cgroup");
  assert.equal((await podStatus(d, id)).status!.linux!.namespaces!.options!.pid, NamespaceMode.POD);

  await stopPod(d, id);
  assert.equal(await alive(info.pid), false, "Stop killed the infra process");
  assert.equal((await podStatus(d, id)).status!.state, PodSandboxState.SANDBOX_NOTREADY);
  await removePod(d, id);
  await env.leaks.assertNoLeaks();
});

test("after a daemon restart pods are listed as they were, the infra survives, a pod whose pins are gone is NOTREADY, and all are removable", async (t) => {
  const env = await podEnv(t);
  const d1 = env.d;
  const ready = await runPod(d1, { name: "ready" });
  const shared = await runPod(d1, { name: "shared", pid: NamespaceMode.POD });
  const stopped = await runPod(d1, { name: "stopped" });
  const broken = await runPod(d1, { name: "broken" });
  await stopPod(d1, stopped);
  const ipReady = (await podStatus(d1, ready)).status!.network!.ip;
  const sharedInfo = await podInfo(d1, shared);
  const brokenInfo = await podInfo(d1, broken);

  // While the daemon is down, something takes the broken pod's network namespace away.
  env.d.client.close();
  env.d.proc.kill("SIGTERM");
  await new Promise((r) => env.d.proc.once("exit", r));
  await run("umount", [brokenInfo.namespaces.net!]);
  const d2 = await env.restart();
  assert.ok(await alive(sharedInfo.pid), "the infra process outlived the daemon");

  const c = d2.client;
  const items = (await call(c, c.runtime, c.runtime.listPodSandbox, ListPodSandboxRequest.fromPartial({}))).items;
  const state = new Map(items.map((p) => [p.metadata!.name, p.state]));
  assert.deepEqual(Object.fromEntries(state), {
    ready: PodSandboxState.SANDBOX_READY,
    shared: PodSandboxState.SANDBOX_READY,
    stopped: PodSandboxState.SANDBOX_NOTREADY,
    broken: PodSandboxState.SANDBOX_NOTREADY,
  });
  assert.equal((await podStatus(d2, ready)).status!.network!.ip, ipReady);
  assert.match((await podInfo(d2, broken)).netnsPath, /netns/);

  // Idempotence and the same-metadata rule hold across the restart too.
  assert.equal(await runPod(d2, { name: "ready" }), ready);
  await stopPod(d2, shared);
  assert.equal(await alive(sharedInfo.pid), false);
  for (const id of [ready, shared, stopped, broken]) await removePod(d2, id);
  assert.equal((await call(c, c.runtime, c.runtime.listPodSandbox, ListPodSandboxRequest.fromPartial({}))).items.length, 0);
  await env.leaks.assertNoLeaks();
});

test("a daemon killed in the middle of RunPodSandbox cleans the half-made pod up when it comes back", async (t) => {
  const env = await podEnv(t);
  // A plugin after bridge that takes its time: when the daemon dies, the pod has pins, a cgroup,
  // a veth and an address, and its record says "creating".
  const slow = join(env.binDir, "berth-e2e-slow");
  await writeFile(slow, `#!/bin/sh\ncat >/dev/null\n[ "$CNI_COMMAND" = ADD ] && sleep 1.5 && exit 1\nexit 0\n`);
  await chmod(slow, 0o755);
  await env.writeConf([{ type: "berth-e2e-slow" }]);
  const pending = runPod(env.d, { name: "doomed" }).catch((e: Error) => e);
  const deadline = Date.now() + 5000;
  while (!(await hasPlugin(slow)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.ok(await hasPlugin(slow), "the slow plugin is running");
  env.d.proc.kill("SIGKILL");
  assert.ok((await pending) instanceof Error);
  while ((await hasPlugin(slow)) && Date.now() < deadline + 5000) await new Promise((r) => setTimeout(r, 20));

  await env.writeConf();
  const d2 = await env.restart();
  const c = d2.client;
  // The cleanup runs in the background right after start.
  const until = Date.now() + 10_000;
  for (;;) {
    const left = await findLeaks(env.leaks.scope, env.leaks.before);
    if (left.length === 0) break;
    if (Date.now() > until) assert.deepEqual(left, []);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal((await call(c, c.runtime, c.runtime.listPodSandbox, ListPodSandboxRequest.fromPartial({}))).items.length, 0);
  // The same pod can now be made.
  const id = await runPod(d2, { name: "doomed" });
  await removePod(d2, id);
  await env.leaks.assertNoLeaks();
});

async function hasPlugin(path: string): Promise<boolean> {
  const { stdout } = await run("ps", ["-eo", "args"]);
  return stdout.split("\n").some((l) => l.includes(path));
}
