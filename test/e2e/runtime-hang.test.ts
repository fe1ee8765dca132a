// A runtime that never answers (a fake runc handler or conmon that sleeps on the verb a test names)
// must not hold up anything about other pods, and the hung call ends at its deadline with what it started undone.
import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Metadata, status as grpc, type ServiceError } from "@grpc/grpc-js";
import { call, type CriClient } from "../../src/cli/client.js";
import {
  ContainerState, CreateContainerRequest, ImageStatusRequest, ListContainerStatsRequest, ListImagesRequest, ListPodSandboxRequest, StartContainerRequest,
  type CreateContainerResponse, type StartContainerResponse,
} from "../../src/generated/runtime/v1/api.js";
import { which } from "../../src/util/which.js";
import { randomBytes } from "node:crypto";
import { pushBusybox, pushImage, type PushedImage } from "../fixtures/images.js";
import { startProxy } from "../fixtures/proxy.js";
import { daemon, list, registry, status as imageStatus, tempDir, writeHosts } from "./images-kit.js";
import { podEnv, podStatus, removePod, runPod, stopPod } from "./pods-kit.js";
import {
  createCtr, ctrConfig, ctrEnv, ctrStatus, listCtrs, removeCtr, runPodWithLogs, sharedRegistry, startCtr, stopCtr, waitState, type CtrEnv, type Registry,
} from "./containers-kit.js";

let r: Registry & { stop(): Promise<void> };
let scratch: string;
/** The fake runtime and conmon hang in `sleep <this>`: a number no one else sleeps for. */
const SLEEP = String(800_000 + Math.floor(Math.random() * 99_999));
const CONMON_MARK = "hang-conmon-please";

before(async () => {
  r = await sharedRegistry();
  scratch = await mkdtemp(join(tmpdir(), "berth-hang-"));
  const ctl = join(scratch, "ctl");
  await mkdir(ctl);
  // runc, except that a verb with a file ctl/hang-<verb> sleeps forever (in a child: killing the shell
  // alone would leave it); a file with text in it: only when the arguments hold that text (a container ID).
  await writeFile(join(scratch, "flaky-runtime"), `#!/bin/sh
verb=
for a in "$@"; do case "$a" in -*) ;; *) verb=$a; break;; esac; done
if [ -n "$verb" ] && [ -e "${ctl}/hang-$verb" ]; then
  only=$(cat "${ctl}/hang-$verb")
  case " $* " in *"$only"*) sleep ${SLEEP}; exit 1;; esac
fi
if [ -n "$verb" ] && [ -e "${ctl}/slow-$verb" ]; then sleep 3.${SLEEP}; fi
exec ${which("runc")} "$@"
`);
  // conmon, except for a container whose spec carries the mark: it never writes its sync pipe.
  await writeFile(join(scratch, "flaky-conmon"), `#!/bin/sh
if grep -q ${CONMON_MARK} config.json 2>/dev/null; then sleep ${SLEEP}; exit 1; fi
exec ${which("conmon")} "$@"
`);
  // A runtime that answers nothing at all, not even --version (its start-up probe hangs).
  await writeFile(join(scratch, "dead-runtime"), `#!/bin/sh\nsleep ${SLEEP}\n`);
  for (const f of ["flaky-runtime", "flaky-conmon", "dead-runtime"]) await chmod(join(scratch, f), 0o755);
});
after(async () => {
  await r.stop();
  await rm(scratch, { recursive: true, force: true });
});

const hang = (verb: string, onlyFor = "") => writeFile(join(scratch, "ctl", `hang-${verb}`), onlyFor);
const unhang = (verb: string) => rm(join(scratch, "ctl", `hang-${verb}`), { force: true });

/** Pids of the fake runtime's hung sleeps (or its 3 s ones, `slow`). */
async function hungPids(slow = false): Promise<number[]> {
  const out: number[] = [];
  for (const p of await readdir("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    const cmd = await readFile(`/proc/${p}/cmdline`, "utf8").catch(() => "");
    if (cmd === `sleep\0${slow ? "3." : ""}${SLEEP}\0`) out.push(Number(p));
  }
  return out;
}

async function until(what: string, ok: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`gave up waiting: ${what}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** A unary call that can be cancelled, with whether it settled yet. */
function inFlight<Res>(start: (md: Metadata, opts: { deadline: number }, cb: (err: ServiceError | null, res: Res) => void) => { cancel(): void }, deadlineMs: number) {
  let settled = false;
  let callObj: { cancel(): void } | undefined;
  const result = new Promise<Res>((resolve, reject) => {
    callObj = start(new Metadata(), { deadline: Date.now() + deadlineMs }, (err, res) => {
      settled = true;
      if (err) reject(err);
      else resolve(res);
    });
  });
  result.catch(() => undefined);
  return { result, cancel: () => callObj?.cancel(), get settled() { return settled; } };
}

function createInFlight(c: CriClient, podId: string, config: ReturnType<typeof ctrConfig>, deadlineMs: number) {
  const req = CreateContainerRequest.fromPartial({ podSandboxId: podId, config });
  return inFlight<CreateContainerResponse>((md, o, cb) => c.runtime.createContainer(req, md, o, cb), deadlineMs);
}

function startInFlight(c: CriClient, id: string, deadlineMs: number) {
  return inFlight<StartContainerResponse>((md, o, cb) => c.runtime.startContainer(StartContainerRequest.fromPartial({ containerId: id }), md, o, cb), deadlineMs);
}

const failsWith = (code: number) => (e: ServiceError) => e.code === code;

/** CreateContainer once the earlier call with this name is undone (until then: AlreadyExists, "being created"). */
async function createAgain(env: CtrEnv, podId: string, config: ReturnType<typeof ctrConfig>): Promise<string> {
  for (let i = 0; ; i++) {
    const got = await createCtr(env, podId, config).catch((e: ServiceError) => e);
    if (typeof got === "string") return got;
    assert.ok(got.code === grpc.ALREADY_EXISTS && /being created/.test(got.details) && i < 500, got.details);
    await new Promise((res) => setTimeout(res, 20));
  }
}

async function flakyEnv(t: Parameters<typeof ctrEnv>[0], o: { conmon?: boolean } = {}): Promise<CtrEnv> {
  const toml = [
    ...(o.conmon ? [`conmon_path = "${join(scratch, "flaky-conmon")}"`] : []),
    `[runtime.handlers.flaky]`, `runtime_path = "${join(scratch, "flaky-runtime")}"`, `runtime_root = "${join(scratch, `flaky-root-${SLEEP}-${Math.random().toString(16).slice(2, 6)}`)}"`,
  ].join("\n");
  return ctrEnv(t, r, { runtimeToml: `\n${toml}` });
}

/** Everything about pod B, from its start to its removal, answered while pod A's call hangs. */
async function podBLifecycle(env: CtrEnv, podA: string, aCtr?: string): Promise<void> {
  const { d } = env;
  const c = d.client;
  const podB = await runPodWithLogs(env);
  const id = await createCtr(env, podB, ctrConfig(env, { command: ["sleep", "1000"] }));
  await startCtr(d, id);
  await waitState(d, id, ContainerState.CONTAINER_RUNNING);
  const pods = (await call(c, c.runtime, c.runtime.listPodSandbox, ListPodSandboxRequest.fromPartial({}))).items.map((p) => p.id);
  assert.ok(pods.includes(podA) && pods.includes(podB));
  assert.ok((await listCtrs(d)).some((x) => x.id === id));
  assert.equal((await podStatus(d, podB)).status!.state, 0, "pod B ready");
  assert.equal((await podStatus(d, podA)).status!.state, 0, "pod A's status answers too");
  if (aCtr) await ctrStatus(d, aCtr, true);
  assert.equal((await ctrStatus(d, id, true)).status!.state, ContainerState.CONTAINER_RUNNING);
  const stats = await call(c, c.runtime, c.runtime.listContainerStats, ListContainerStatsRequest.fromPartial({}));
  assert.ok(stats.stats.some((s) => s.attributes?.id === id));
  assert.ok((await call(c, c.image, c.image.listImages, ListImagesRequest.fromPartial({}))).images.length > 0);
  assert.ok((await call(c, c.image, c.image.imageStatus, ImageStatusRequest.fromPartial({ image: { image: env.image } }))).image);
  assert.equal((await call(c, c.runtime, c.runtime.version, { version: "" })).runtimeName, "berth");
  assert.ok((await call(c, c.runtime, c.runtime.status, { verbose: false })).status);
  await stopCtr(d, id, 0n);
  await removeCtr(d, id);
  await stopPod(d, podB);
  await removePod(d, podB);
}

/** What a create left, once undone: no bundle, no writable layer, no record, no hung runtime. */
async function assertCreateUndone(env: CtrEnv, podId: string): Promise<void> {
  const empty = async (dir: string) => (await readdir(dir).catch(() => [])).length === 0;
  // The undo runs on after the call answered: bundle, then writable layer, then the record.
  await until("the hung runtime killed and the create undone", async () =>
    (await hungPids()).length === 0 && (await empty(join(env.d.state, "containers"))) && (await empty(join(env.d.root, "containers")))
    && (await listCtrs(env.d, { podSandboxId: podId })).length === 0);
  const mounts = await readFile("/proc/self/mountinfo", "utf8");
  assert.ok(!mounts.includes(join(env.d.state, "containers")), "no rootfs mount left");
}

test("a runtime hung in `create` blocks nothing about other pods; cancelling the call kills it and undoes the create; a retry works", async (t) => {
  const env = await flakyEnv(t);
  const c = env.d.client;
  const podA = await runPodWithLogs(env, { runtimeHandler: "flaky" });
  await hang("create");
  t.after(() => unhang("create"));
  const config = ctrConfig(env, { name: "hung", command: ["sleep", "1000"] });
  const a = createInFlight(c, podA, config, 600_000);
  await until("pod A's runtime hung in create", async () => (await hungPids()).length > 0);

  await podBLifecycle(env, podA);
  assert.equal(a.settled, false, "pod A's CreateContainer is still hung");
  assert.ok((await hungPids()).length > 0);

  a.cancel();
  await assert.rejects(a.result, failsWith(grpc.CANCELLED));
  await assertCreateUndone(env, podA);
  await unhang("create");
  const id = await createAgain(env, podA, config);
  await startCtr(env.d, id);
  await waitState(env.d, id, ContainerState.CONTAINER_RUNNING);
  await removePod(env.d, podA);
  await env.leaks.assertNoLeaks();
});

test("a CreateContainer hung in the runtime ends with DEADLINE_EXCEEDED at its deadline, the runtime killed and everything undone", async (t) => {
  const env = await flakyEnv(t);
  const c = env.d.client;
  const podA = await runPodWithLogs(env, { runtimeHandler: "flaky" });
  await hang("create");
  t.after(() => unhang("create"));
  const config = ctrConfig(env, { name: "hung", command: ["sleep", "1000"] });
  const a = createInFlight(c, podA, config, 3000);
  await assert.rejects(a.result, failsWith(grpc.DEADLINE_EXCEEDED));
  await assertCreateUndone(env, podA);
  assert.match(env.d.logs(), /CreateContainer: the caller's deadline passed/);
  // Still hung: the retry fails the same clear way, and leaves nothing either.
  await assert.rejects(call(c, c.runtime, c.runtime.createContainer, CreateContainerRequest.fromPartial({ podSandboxId: podA, config }), 2000), failsWith(grpc.DEADLINE_EXCEEDED));
  await assertCreateUndone(env, podA);
  await unhang("create");
  const id = await createAgain(env, podA, config);
  await startCtr(env.d, id);
  await removePod(env.d, podA);
  await env.leaks.assertNoLeaks();
});

test("a runtime hung in `start` or `delete` holds up no other pod; the call ends at its deadline with the runtime killed; retries work", async (t) => {
  const env = await flakyEnv(t);
  const { d } = env;
  const podA = await runPodWithLogs(env, { runtimeHandler: "flaky" });
  const first = await createCtr(env, podA, ctrConfig(env, { command: ["sleep", "1000"] }));
  await hang("start");
  t.after(() => unhang("start"));
  const a = startInFlight(d.client, first, 600_000);
  await until("pod A's runtime hung in start", async () => (await hungPids()).length > 0);
  await podBLifecycle(env, podA, first);
  assert.equal(a.settled, false, "pod A's StartContainer is still hung");
  a.cancel();
  await assert.rejects(a.result, failsWith(grpc.CANCELLED));
  await until("the hung start killed", async () => (await hungPids()).length === 0);
  assert.equal((await ctrStatus(d, first)).status!.reason, "StartError", "a start that did not happen is reported");

  const second = await createCtr(env, podA, ctrConfig(env, { command: ["sleep", "1000"] }));
  await assert.rejects(startInFlight(d.client, second, 3000).result, failsWith(grpc.DEADLINE_EXCEEDED));
  await until("the hung start killed", async () => (await hungPids()).length === 0);
  await unhang("start");
  const third = await createCtr(env, podA, ctrConfig(env, { command: ["sleep", "1000"] }));
  await startCtr(d, third);
  await waitState(d, third, ContainerState.CONTAINER_RUNNING);

  await hang("delete");
  t.after(() => unhang("delete"));
  await stopCtr(d, third, 0n);
  const c = d.client;
  await assert.rejects(call(c, c.runtime, c.runtime.removeContainer, { containerId: third }, 3000), failsWith(grpc.DEADLINE_EXCEEDED));
  await until("the hung delete killed", async () => (await hungPids()).length === 0);
  assert.ok((await listCtrs(d, { podSandboxId: podA })).some((x) => x.id === third), "kept for a retry");
  await unhang("delete");
  await removeCtr(d, third);
  assert.ok(!(await listCtrs(d, { podSandboxId: podA })).some((x) => x.id === third));
  await removePod(d, podA);
  await env.leaks.assertNoLeaks();
});

test("a RemovePodSandbox whose runtime hangs in `delete` ends at its deadline with the runtime killed and the pod kept; the retry removes it", async (t) => {
  const env = await flakyEnv(t);
  const { d } = env;
  const c = d.client;
  const podA = await runPodWithLogs(env, { runtimeHandler: "flaky" });
  const id = await createCtr(env, podA, ctrConfig(env, { command: ["sleep", "1000"] }));
  await startCtr(d, id);
  await waitState(d, id, ContainerState.CONTAINER_RUNNING);
  await stopPod(d, podA);
  await hang("delete");
  t.after(() => unhang("delete"));
  await assert.rejects(call(c, c.runtime, c.runtime.removePodSandbox, { podSandboxId: podA }, 3000), failsWith(grpc.DEADLINE_EXCEEDED));
  // Killed when the caller gave up, not at runc's own 60 s timeout.
  await until("the hung delete killed", async () => (await hungPids()).length === 0, 15_000);
  assert.ok((await call(c, c.runtime, c.runtime.listPodSandbox, { filter: undefined })).items.some((p) => p.id === podA), "the pod kept for a retry");
  await unhang("delete");
  await removePod(d, podA);
  assert.ok(!(await call(c, c.runtime, c.runtime.listPodSandbox, { filter: undefined })).items.some((p) => p.id === podA));
  await env.leaks.assertNoLeaks();
});

test("a conmon that never writes its sync pipe holds up no other pod; the create ends at its deadline with conmon killed and everything undone", async (t) => {
  const env = await flakyEnv(t, { conmon: true });
  const podA = await runPodWithLogs(env);
  const config = ctrConfig(env, { name: "hung", command: ["sleep", "1000"], annotations: { "test/mark": CONMON_MARK } });
  const a = createInFlight(env.d.client, podA, config, 600_000);
  await until("pod A's conmon hung", async () => (await hungPids()).length > 0);
  await podBLifecycle(env, podA);
  assert.equal(a.settled, false, "pod A's CreateContainer is still hung");
  a.cancel();
  await assert.rejects(a.result, failsWith(grpc.CANCELLED));
  await assertCreateUndone(env, podA);
  await assert.rejects(createInFlight(env.d.client, podA, config, 3000).result, failsWith(grpc.DEADLINE_EXCEEDED));
  await assertCreateUndone(env, podA);
  await removePod(env.d, podA);
  await env.leaks.assertNoLeaks();
});

test("a handler whose runtime answers nothing, not even --version, holds up no pod on another handler; its probe is killed and names why", async (t) => {
  const env = await podEnv(t, { runtimeToml: `\n[runtime.handlers.dead]\nruntime_path = "${join(scratch, "dead-runtime")}"`, servingOnly: true });
  const c = env.d.client;
  await until("the dead handler's probe hung", async () => (await hungPids()).length > 0);
  // The probe gives up after 20 s; a pod on runc takes ~1 s, so it is made while the probe still hangs.
  const podId = await runPod(env.d);
  assert.ok((await hungPids()).length > 0, "the dead handler's probe still hung while the pod ran");
  assert.equal((await podStatus(env.d, podId)).status!.state, 0);
  // Status waits for every probe: the dead one is given up on, its processes killed, and it is left out with why.
  const s = await call(c, c.runtime, c.runtime.status, { verbose: true }, 120_000);
  assert.ok(!s.runtimeHandlers.some((h) => h.name === "dead"));
  const dead = (JSON.parse(s.info["handlerProbes"]!) as Array<{ name: string; usable: boolean; reason: string }>).find((h) => h.name === "dead")!;
  assert.equal(dead.usable, false);
  assert.match(dead.reason, /--version` did not answer within 20 s; killed/);
  assert.deepEqual(await hungPids(), [], "every process of the probe was killed");
  await assert.rejects(runPod(env.d, { runtimeHandler: "dead" }), failsWith(grpc.FAILED_PRECONDITION));
  await removePod(env.d, podId);
  await env.leaks.assertNoLeaks();
});

test("SIGTERM lets a call in flight finish: a StartContainer whose runtime takes 3 s answers OK, then the daemon exits 0", async (t) => {
  const env = await flakyEnv(t);
  const { d } = env;
  const podId = await runPodWithLogs(env, { runtimeHandler: "flaky" });
  const id = await createCtr(env, podId, ctrConfig(env, { command: ["sleep", "1000"] }));
  await writeFile(join(scratch, "ctl", "slow-start"), "");
  t.after(() => rm(join(scratch, "ctl", "slow-start"), { force: true }));
  const a = startInFlight(d.client, id, 600_000);
  await until("the slow start in flight", async () => (await hungPids(true)).length > 0);
  const exited = new Promise<number | null>((res) => d.proc.once("exit", (code) => res(code)));
  d.proc.kill("SIGTERM");
  await a.result;
  assert.equal(await exited, 0);
  assert.match(d.logs(), /"rpc":"StartContainer"[^\n]*"msg":"call"/, "logged as answered");
  const next = await env.restart();
  assert.equal((await ctrStatus(next, id)).status!.state, ContainerState.CONTAINER_RUNNING);
  await removePod(next, podId);
  await env.leaks.assertNoLeaks();
});

/** SIGKILLs every process whose command line names `dir` (a killed daemon's conmon and the runtime under it). */
async function killNaming(dir: string): Promise<void> {
  for (const p of await readdir("/proc")) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    const cmd = await readFile(`/proc/${p}/cmdline`, "utf8").catch(() => "");
    if (cmd.includes(dir)) {
      try {
        process.kill(Number(p), "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
  }
}

test("a leftover whose runtime hangs in `delete` at start holds up no other pod's Stop and Remove", async (t) => {
  // runc itself is the flaky runtime here: the start-up clean-up of a half-made container uses it.
  const env = await ctrEnv(t, r, { runtimeToml: `\nrunc_path = "${join(scratch, "flaky-runtime")}"` });
  const podA = await runPodWithLogs(env);
  const podB = await runPodWithLogs(env);
  const idB = await createCtr(env, podB, ctrConfig(env, { command: ["sleep", "1000"] }));
  await startCtr(env.d, idB);
  await hang("create");
  t.after(() => unhang("create"));
  createInFlight(env.d.client, podA, ctrConfig(env, { name: "half-made", command: ["sleep", "1000"] }), 600_000);
  await until("pod A's runtime hung in create", async () => (await hungPids()).length > 0);
  // Killed mid-create: the container stays "creating" in the store, a leftover for the next start.
  const old = env.d;
  old.proc.kill("SIGKILL");
  await new Promise((res) => old.proc.once("exit", res));
  await killNaming(scratch);
  await killNaming(old.dir);
  await unhang("create");
  const leftover = (await readdir(join(old.state, "containers"))).find((x) => x !== idB)!;
  await hang("delete", leftover);
  t.after(() => unhang("delete"));
  const d = await env.restart();
  await until("the leftover's delete hung", async () => (await hungPids()).length > 0);

  await stopPod(d, podB);
  await removePod(d, podB);
  assert.ok((await hungPids()).length > 0, "the leftover's delete still hangs");
  await unhang("delete");
  for (const p of await hungPids()) process.kill(p, "SIGKILL");
  await until("the leftover cleaned up", async () => (await readdir(join(d.state, "containers")).catch(() => [])).length === 0);
  await removePod(d, podA);
  await env.leaks.assertNoLeaks();
});

test("a create cut short by a kill -9 of the daemon leaves no conmon: the next start kills it and the runtime under it, then undoes the create", async (t) => {
  const env = await ctrEnv(t, r, { runtimeToml: `\nrunc_path = "${join(scratch, "flaky-runtime")}"` });
  const podA = await runPodWithLogs(env);
  await hang("create");
  t.after(() => unhang("create"));
  createInFlight(env.d.client, podA, ctrConfig(env, { name: "cut-short", command: ["sleep", "1000"] }), 600_000);
  await until("pod A's runtime hung in create", async () => (await hungPids()).length > 0);
  const old = env.d;
  old.proc.kill("SIGKILL");
  await new Promise((res) => old.proc.once("exit", res));
  const bundleOf = async () => {
    const left = await readdir(join(old.state, "containers"));
    assert.equal(left.length, 1, "one half-made container");
    return left[0]!;
  };
  const leftover = await bundleOf();
  // conmon, its runtime and the runtime's hung child outlived the daemon, under no record.
  const conmonNaming = async () => {
    const out: number[] = [];
    for (const p of await readdir("/proc")) {
      if (!/^\d+$/.test(p)) continue;
      const argv = (await readFile(`/proc/${p}/cmdline`, "utf8").catch(() => "")).split("\0");
      if (argv.includes(leftover) && argv.some((a) => a.endsWith("conmon"))) out.push(Number(p));
    }
    return out;
  };
  assert.ok((await conmonNaming()).length > 0, "the killed daemon's conmon still runs");
  await unhang("create");
  const d = await env.restart();
  await until("the half-made container cleaned up", async () => (await readdir(join(d.state, "containers")).catch(() => [])).length === 0);
  await until("its conmon and the hung runtime gone", async () => (await conmonNaming()).length === 0 && (await hungPids()).length === 0, 10_000);
  await removePod(d, podA);
  await env.leaks.assertNoLeaks();
});

test("List, Status and image calls answer while a pull hangs mid-layer; the pull, cancelled, stops", async (t) => {
  let img: PushedImage | undefined;
  let holding = false;
  const reg = await registry(t);
  const proxy = await startProxy(reg, async ({ req, res, forward }) => {
    if (!img || !(req.url ?? "").includes(`/blobs/${img.layers[0]!.digest}`)) return false;
    const raw = await forward();
    res.writeHead(200, { "content-length": String(raw.body.length) });
    res.write(raw.body.subarray(0, raw.body.length >> 1)); // then nothing until the client goes
    holding = true;
    return true;
  });
  t.after(() => proxy.stop());
  const certsD = await tempDir(t, "berth-certsd-");
  await writeHosts(certsD, reg.host, `server = "${proxy.url}"\n`);
  const d = await daemon(t, certsD, `stall_timeout = "600s"`);
  const c = d.client;
  const base = await pushBusybox(reg, "base");
  await call(c, c.image, c.image.pullImage, { image: { image: base.reference, annotations: {}, userSpecifiedImage: "", runtimeHandler: "", imageRef: "" }, auth: undefined, sandboxConfig: undefined }, 60_000);
  img = await pushImage(reg, { repo: "slow", tag: "v1", layers: [{ entries: [{ type: "file", path: "blob.bin", content: randomBytes(1 << 20) }] }] });
  const spec = { image: img.reference, annotations: {}, userSpecifiedImage: "", runtimeHandler: "", imageRef: "" };
  const p = inFlight((md, o, cb) => c.image.pullImage({ image: spec, auth: undefined, sandboxConfig: undefined }, md, o, cb), 600_000);
  await until("the layer download held", async () => holding);

  assert.equal((await list(d)).length, 1);
  assert.ok((await imageStatus(d, base.reference)).image);
  assert.equal((await imageStatus(d, img.reference)).image, undefined, "not there until pulled");
  assert.ok((await call(c, c.runtime, c.runtime.status, { verbose: false })).status);
  assert.deepEqual((await call(c, c.runtime, c.runtime.listPodSandbox, ListPodSandboxRequest.fromPartial({}))).items, []);
  assert.deepEqual((await call(c, c.runtime, c.runtime.listContainers, { filter: undefined })).containers, []);
  assert.equal((await call(c, c.runtime, c.runtime.version, { version: "" })).runtimeName, "berth");
  assert.equal(p.settled, false, "the pull is still held");
  p.cancel();
  await assert.rejects(p.result, failsWith(grpc.CANCELLED));
});

test("a runtime hung in `state` at start (asked about a created container) holds up neither serving nor other pods", async (t) => {
  const env = await ctrEnv(t, r, { runtimeToml: `\nrunc_path = "${join(scratch, "flaky-runtime")}"` });
  const podA = await runPodWithLogs(env);
  const idA = await createCtr(env, podA, ctrConfig(env, { command: ["sleep", "1000"] }));
  const podB = await runPodWithLogs(env);
  const idB = await createCtr(env, podB, ctrConfig(env, { command: ["sleep", "1000"] }));
  await startCtr(env.d, idB);
  await hang("state", idA);
  t.after(() => unhang("state"));
  // The restarted daemon asks runc whether the created container was started meanwhile: that hangs.
  const d = await env.restart();
  await until("runc state of the created container hung", async () => (await hungPids()).length > 0);
  assert.deepEqual((await listCtrs(d)).map((x) => x.id).sort(), [idA, idB].sort());
  assert.equal((await ctrStatus(d, idB)).status!.state, ContainerState.CONTAINER_RUNNING);
  await stopPod(d, podB);
  await removePod(d, podB);
  assert.ok((await hungPids()).length > 0, "runc state still hangs");
  await unhang("state");
  for (const p of await hungPids()) process.kill(p, "SIGKILL");
  await startCtr(d, idA);
  await waitState(d, idA, ContainerState.CONTAINER_RUNNING);
  await removePod(d, podA);
  await env.leaks.assertNoLeaks();
});
