// Containers end to end against the real daemon, runc, conmon, CNI and a registry: command, env,
// workdir and user from the image and the CRI config; exit codes and reasons; stop, remove, list.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { status as grpc, type ServiceError } from "@grpc/grpc-js";
import { call } from "../../src/cli/client.js";
import { ContainerState, CreateContainerRequest, NamespaceMode, Signal, SupplementalGroupsPolicy } from "../../src/generated/runtime/v1/api.js";
import type { PushedImage } from "../fixtures/images.js";
import { podStatus, removePod, stopPod } from "./pods-kit.js";
import {
  createCtr, ctrConfig, ctrEnv, ctrStatus, exec, listCtrs, logText, removeCtr, runCtr, runPodWithLogs, sharedRegistry, startCtr, stopCtr, waitLog, waitState,
  type Registry,
} from "./containers-kit.js";

/** "registry/repo@sha256:<manifest digest>": what ContainerStatus.image_ref must be. */
const digested = (img: PushedImage) => `${img.reference.replace(/[:@][^:/@]+$/, "")}@${img.manifestDigest}`;
const code = (c: number, re?: RegExp) => (e: ServiceError) => e.code === c && (!re || re.test(e.details));

let r: Registry & { stop(): Promise<void> };
before(async () => {
  r = await sharedRegistry({ rich: true });
});
after(async () => {
  await r.stop();
});

test("a busybox container runs its command; logs, exec, stop and remove work", async (t) => {
  const env = await ctrEnv(t, r);
  const { d } = env;
  const { id, podId } = await runCtr(env, { command: ["sh", "-c", "echo hello; echo oops >&2; exec sleep 1000"] });
  assert.match(id, /^[0-9a-f]{64}$/);
  const s = await waitState(d, id, ContainerState.CONTAINER_RUNNING);
  assert.equal(s.status!.imageRef, digested(r.busybox), "image_ref is the digested reference");
  assert.equal(s.status!.imageId, r.busybox.configDigest, "image_id is the image ID");
  assert.equal(s.status!.image!.image, env.image);
  assert.ok(s.status!.startedAt >= s.status!.createdAt && s.status!.createdAt > 0n);
  assert.match(s.status!.logPath, /\/logs\/.+\/c-[0-9a-f]{4}\/0\.log$/);
  await waitLog(s.status!.logPath, /hello\noops\n/);
  const e = await exec(d, id, ["sh", "-c", "echo out; echo err >&2; exit 3"]);
  assert.equal(e.exitCode, 3);
  assert.equal(e.stdout.toString(), "out\n");
  assert.equal(e.stderr.toString(), "err\n");
  // By unique prefix, as crictl users type it.
  assert.equal((await ctrStatus(d, id.slice(0, 8))).status!.id, id);

  const t0 = Date.now();
  await stopCtr(d, id, 1n);
  assert.ok(Date.now() - t0 < 8000);
  const st = await ctrStatus(d, id);
  assert.equal(st.status!.state, ContainerState.CONTAINER_EXITED);
  assert.equal(st.status!.exitCode, 137, "sleep as PID 1 ignores SIGTERM: SIGKILL after the timeout");
  assert.equal(st.status!.reason, "Error");
  assert.ok(st.status!.finishedAt >= st.status!.startedAt);
  await stopCtr(d, id, 1n);
  await assert.rejects(exec(d, id, ["true"]), code(grpc.FAILED_PRECONDITION, /not running/));
  assert.equal((await listCtrs(d)).length, 1);
  await removeCtr(d, id);
  await removeCtr(d, id);
  await stopCtr(d, id);
  await assert.rejects(ctrStatus(d, id), code(grpc.NOT_FOUND, /container/));
  assert.equal((await listCtrs(d)).length, 0);
  await removePod(d, podId);
  await env.leaks.assertNoLeaks();
});

test("command, args, env, working dir and user come from the image unless the CRI config says otherwise", async (t) => {
  const env = await ctrEnv(t, r, { pull: [r.rich!.reference] });
  const { d } = env;
  const podId = await runPodWithLogs(env);
  const run = async (o: Parameters<typeof ctrConfig>[1]): Promise<string> => {
    const id = await createCtr(env, podId, ctrConfig(env, { image: { image: r.rich!.reference, annotations: {}, userSpecifiedImage: "", runtimeHandler: "", imageRef: "" }, ...o }));
    await startCtr(d, id);
    const s = await waitState(d, id, ContainerState.CONTAINER_EXITED);
    assert.equal(s.status!.exitCode, 0, await logText(s.status!.logPath));
    assert.equal(s.status!.reason, "Completed");
    return logText(s.status!.logPath);
  };
  assert.equal(await run({}), "run.sh hello world\n", "ENTRYPOINT + CMD");
  assert.equal(await run({ args: ["x", "y"] }), "run.sh x y\n", "args replace CMD");
  const probe = ["sh", "-c", 'id; pwd; echo "$APP_MODE|$FOO|$HOSTNAME"; stat -c "%u %a" /data/vol; ls /data/vol'];
  const fromImage = await run({ command: probe });
  const [idLine, pwd, envLine, vol] = fromImage.split("\n");
  assert.equal(idLine, "uid=1000(app) gid=1000(app) groups=50(staff),1000(app)", "USER app from the image, groups from /etc/group");
  assert.equal(pwd, "/data");
  assert.match(envLine!, /^test\|\|pod-[0-9a-f]{4}$/);
  assert.equal(vol, "1000 755", "the image volume is a fresh dir owned like the image's");
  const fromCri = await run({
    command: probe,
    workingDir: "/tmp",
    envs: [{ key: "APP_MODE", value: Buffer.from("override") }, { key: "FOO", value: Buffer.from("bar") }],
    linux: { securityContext: { runAsUser: { value: 65534n }, supplementalGroups: [1000n] } } as never,
  });
  const [idLine2, pwd2, env2] = fromCri.split("\n");
  assert.equal(idLine2, "uid=65534(nobody) gid=65534(nobody) groups=1000(app),65534(nobody)");
  assert.equal(pwd2, "/tmp");
  assert.match(env2!, /^override\|bar\|/);
  assert.match((await run({ command: ["id", "-u"], linux: { securityContext: { runAsUsername: "nobody" } } as never })), /^65534\n$/);
  await assert.rejects(
    createCtr(env, podId, ctrConfig(env, { image: { image: r.rich!.reference } as never, linux: { securityContext: { runAsUsername: "ghost" } } as never })),
    code(grpc.INVALID_ARGUMENT, /run_as_username "ghost".*no such user/),
  );
  await assert.rejects(createCtr(env, podId, ctrConfig(env, { image: { image: "nothere:v1" } as never })), code(grpc.NOT_FOUND, /image/));
  await removePod(d, podId);
  await env.leaks.assertNoLeaks();
});

test("exit codes and reasons: Completed, Error with the code; a cgroup OOM kill is OOMKilled", async (t) => {
  const env = await ctrEnv(t, r);
  const { d } = env;
  const podId = await runPodWithLogs(env);
  const ids = await Promise.all([["true"], ["sh", "-c", "exit 7"], ["sh", "-c", "sleep 1000 & kill -9 $!; wait $!"]].map(async (command) => {
    const id = await createCtr(env, podId, ctrConfig(env, { command }));
    await startCtr(d, id);
    return id;
  }));
  const [ok, seven, killed] = await Promise.all(ids.map((id) => waitState(d, id, ContainerState.CONTAINER_EXITED)));
  assert.deepEqual([ok!.status!.exitCode, ok!.status!.reason], [0, "Completed"]);
  assert.deepEqual([seven!.status!.exitCode, seven!.status!.reason], [7, "Error"]);
  assert.deepEqual([killed!.status!.exitCode, killed!.status!.reason], [137, "Error"], "the shell's status for a SIGKILLed child");
  const oom = await createCtr(env, podId, ctrConfig(env, {
    command: ["sh", "-c", "tail /dev/zero"],
    linux: { resources: { memoryLimitInBytes: BigInt(16 << 20) } } as never,
  }));
  await startCtr(d, oom);
  const s = await waitState(d, oom, ContainerState.CONTAINER_EXITED, 30_000);
  assert.equal(s.status!.reason, "OOMKilled");
  assert.equal(s.status!.exitCode, 137);
  assert.equal(s.status!.resources!.linux!.memoryLimitInBytes, BigInt(16 << 20));
  await removePod(d, podId);
  await env.leaks.assertNoLeaks();
});

test("stop sends the image's StopSignal, or the CRI stop_signal, and escalates to SIGKILL after the timeout", async (t) => {
  const env = await ctrEnv(t, r, { pull: [r.rich!.reference] });
  const { d } = env;
  const podId = await runPodWithLogs(env);
  const trap = (sig: string) => ["sh", "-c", `trap 'echo got-${sig}; exit 0' ${sig}; echo ready; while true; do sleep 0.05; done`];
  const start = async (o: Parameters<typeof ctrConfig>[1]) => {
    const id = await createCtr(env, podId, ctrConfig(env, o));
    await startCtr(d, id);
    await waitLog((await ctrStatus(d, id)).status!.logPath, /ready/);
    return id;
  };
  const rich = { image: r.rich!.reference } as never;
  const usr1 = await start({ image: rich, command: trap("USR1") });
  let t0 = Date.now();
  await stopCtr(d, usr1, 30n);
  assert.ok(Date.now() - t0 < 5000, "the image's SIGUSR1 ended it long before the timeout");
  let s = await ctrStatus(d, usr1);
  assert.equal(s.status!.stopSignal, Signal.SIGUSR1, "status reports the effective stop signal: the image's");
  assert.equal(s.status!.exitCode, 0);
  assert.match(await logText(s.status!.logPath), /got-USR1/);

  const usr2 = await start({ command: trap("USR2"), stopSignal: Signal.SIGUSR2 });
  await stopCtr(d, usr2, 30n);
  s = await ctrStatus(d, usr2);
  assert.equal(s.status!.stopSignal, Signal.SIGUSR2, "the config's");
  assert.equal(s.status!.exitCode, 0);
  assert.match(await logText(s.status!.logPath), /got-USR2/);

  const stubborn = await start({ command: ["sh", "-c", "trap '' TERM; echo ready; while true; do sleep 0.05; done"] });
  assert.equal((await ctrStatus(d, stubborn)).status!.stopSignal, Signal.SIGTERM, "neither: SIGTERM");
  await assert.rejects(createCtr(env, podId, ctrConfig(env, { command: ["true"], stopSignal: 99 as Signal })), code(grpc.INVALID_ARGUMENT, /stop_signal 99/));
  t0 = Date.now();
  await stopCtr(d, stubborn, 2n);
  const took = Date.now() - t0;
  assert.ok(took >= 1900 && took < 6000, `SIGKILL after the 2 s timeout (took ${took} ms)`);
  assert.equal((await ctrStatus(d, stubborn)).status!.exitCode, 137);
  await removePod(d, podId);
  await env.leaks.assertNoLeaks();
});

test("remove kills a running container, twice is fine; stopping the pod stops its containers, removing it removes them", async (t) => {
  const env = await ctrEnv(t, r);
  const { d } = env;
  const { id: a, podId } = await runCtr(env, { command: ["sleep", "1000"] });
  const b = await createCtr(env, podId, ctrConfig(env, { command: ["sleep", "1000"] }));
  await startCtr(d, b);
  const pid = JSON.parse((await ctrStatus(d, a, true)).info["info"]!).pid as number;
  assert.ok(pid > 0);
  await removeCtr(d, a);
  await assert.rejects(stat(`/proc/${pid}`), "the process is gone");
  await removeCtr(d, a);
  const created = await createCtr(env, podId, ctrConfig(env, { command: ["sleep", "1000"] }));
  await stopPod(d, podId);
  for (const id of [b, created]) assert.equal((await ctrStatus(d, id)).status!.state, ContainerState.CONTAINER_EXITED);
  await assert.rejects(createCtr(env, podId, ctrConfig(env)), code(grpc.FAILED_PRECONDITION, /not ready/));
  await assert.rejects(startCtr(d, b), code(grpc.FAILED_PRECONDITION, /exited/));
  assert.equal((await podStatus(d, podId)).status!.state, 1);
  await removePod(d, podId);
  await assert.rejects(ctrStatus(d, b), code(grpc.NOT_FOUND));
  assert.equal((await listCtrs(d)).length, 0);
  await env.leaks.assertNoLeaks();
});

test("list filters by ID prefix, pod, state and labels; names are unique per pod and attempt; verbose status has the spec", async (t) => {
  const env = await ctrEnv(t, r);
  const { d } = env;
  const p1 = await runPodWithLogs(env);
  const p2 = await runPodWithLogs(env);
  const a = await createCtr(env, p1, ctrConfig(env, { name: "a", command: ["sleep", "1000"], labels: { tier: "web" } }));
  const b = await createCtr(env, p1, ctrConfig(env, { name: "b", command: ["sleep", "1000"], labels: { tier: "db" } }));
  const c = await createCtr(env, p2, ctrConfig(env, { name: "a", command: ["sleep", "1000"], labels: { tier: "web" } }));
  await startCtr(d, a);
  await assert.rejects(createCtr(env, p1, ctrConfig(env, { name: "a" })), code(grpc.ALREADY_EXISTS, /already exists/));
  const ids = async (f: Parameters<typeof listCtrs>[1]) => (await listCtrs(d, f)).map((x) => x.id).sort();
  assert.deepEqual(await ids({}), [a, b, c].sort());
  assert.deepEqual(await ids({ podSandboxId: p1 }), [a, b].sort());
  assert.deepEqual(await ids({ podSandboxId: p1.slice(0, 10) }), [a, b].sort());
  assert.deepEqual(await ids({ id: a.slice(0, 12) }), [a]);
  assert.deepEqual(await ids({ labelSelector: { tier: "web" } }), [a, c].sort());
  assert.deepEqual(await ids({ labelSelector: { tier: "web" }, podSandboxId: p2 }), [c]);
  assert.deepEqual(await ids({ state: { state: ContainerState.CONTAINER_RUNNING } }), [a]);
  assert.deepEqual(await ids({ state: { state: ContainerState.CONTAINER_CREATED } }), [b, c].sort());
  const list = await listCtrs(d, { id: a });
  assert.equal(list[0]!.imageRef, digested(r.busybox));
  assert.equal(list[0]!.imageId, r.busybox.configDigest);
  assert.deepEqual(list[0]!.labels, { tier: "web" });
  assert.equal(list[0]!.annotations["test/owner"], "containers.test");

  const v = await ctrStatus(d, a, true);
  const info = JSON.parse(v.info["info"]!) as { pid: number; sandboxID: string; runtimeSpec: { process: { args: string[] }; linux: { cgroupsPath: string } } };
  assert.equal(info.sandboxID, p1);
  assert.ok(info.pid > 0);
  assert.deepEqual(info.runtimeSpec.process.args, ["sleep", "1000"]);
  assert.match(info.runtimeSpec.linux.cgroupsPath, new RegExp(`/${a}$`));
  assert.deepEqual(v.status!.labels, { tier: "web" });
  assert.equal(v.status!.user!.linux!.uid, 0n);
  await removePod(d, p1);
  await removePod(d, p2);
  await env.leaks.assertNoLeaks();
});

test("a create that fails (bad seccomp profile, log path outside the pod's log dir) leaves nothing behind; a tty container runs", async (t) => {
  const env = await ctrEnv(t, r);
  const { d } = env;
  const podId = await runPodWithLogs(env);
  await assert.rejects(
    createCtr(env, podId, ctrConfig(env, { command: ["true"], linux: { securityContext: { seccomp: { profileType: 2, localhostRef: "/nonexistent/profile.json" } } } as never })),
    code(grpc.INVALID_ARGUMENT, /profile/),
  );
  // A log path must stay inside the pod's log directory.
  for (const logPath of ["../../escape.log", "/etc/escape.log", "a/../../escape.log"]) {
    await assert.rejects(createCtr(env, podId, ctrConfig(env, { command: ["true"], logPath })), code(grpc.INVALID_ARGUMENT, /log_path .* stay inside it/));
  }
  assert.equal((await listCtrs(d)).length, 0);
  // Undone by CreateContainer itself, before any pod cleanup: no bundle, writable layer or mount
  // (these requests fail before anything is made, so the parent dirs may not exist yet).
  assert.deepEqual(await entries(join(d.state, "containers")), []);
  assert.deepEqual(await entries(join(d.root, "containers")), []);
  assert.doesNotMatch(await readFile("/proc/self/mountinfo", "utf8"), new RegExp(`${d.dir}\\S* .* - overlay `));
  const tty = await createCtr(env, podId, ctrConfig(env, { command: ["sh", "-c", "test -t 1 && echo is-a-tty"], tty: true }));
  await startCtr(d, tty);
  const s = await waitState(d, tty, ContainerState.CONTAINER_EXITED);
  assert.equal(s.status!.exitCode, 0);
  assert.match(await logText(s.status!.logPath), /is-a-tty/);
  await removePod(d, podId);
  await env.leaks.assertNoLeaks();
});

test("PodSandboxStatus lists the pod's containers (evented PLEG reads containers_statuses); unknown IDs: Stop/Remove succeed, Status and Create are NotFound", async (t) => {
  const env = await ctrEnv(t, r);
  const { d } = env;
  const { podId, id: running } = await runCtr(env, { command: ["sleep", "1000"], labels: { app: "x" } });
  const created = await createCtr(env, podId, ctrConfig(env, { command: ["true"] }));
  const other = await runPodWithLogs(env);
  await createCtr(env, other, ctrConfig(env, { command: ["true"] }));
  const s = await podStatus(d, podId, false);
  const byId = new Map(s.containersStatuses.map((x) => [x.id, x]));
  assert.deepEqual([...byId.keys()].sort(), [running, created].sort(), "only this pod's containers");
  assert.equal(byId.get(running)!.state, ContainerState.CONTAINER_RUNNING);
  assert.equal(byId.get(created)!.state, ContainerState.CONTAINER_CREATED);
  assert.deepEqual(byId.get(running)!.labels, { app: "x" });
  assert.equal(byId.get(running)!.imageRef, digested(r.busybox));
  assert.ok(s.timestamp > 0n);

  for (const unknown of ["f".repeat(64), "nope"]) {
    await stopCtr(d, unknown);
    await removeCtr(d, unknown);
    await assert.rejects(ctrStatus(d, unknown), code(grpc.NOT_FOUND, /container/));
    await assert.rejects(createCtr(env, unknown, ctrConfig(env)), code(grpc.NOT_FOUND, /pod sandbox/));
  }
  await removePod(d, podId);
  await removePod(d, other);
  await env.leaks.assertNoLeaks();
});

test("RemovePodSandbox racing CreateContainer in that pod leaves no container, mount or conmon behind", async (t) => {
  const env = await ctrEnv(t, r);
  const { d } = env;
  for (const delayMs of [0, 5, 15, 30, 60, 100, 150]) {
    const podId = await runPodWithLogs(env);
    const creating = createCtr(env, podId, ctrConfig(env, { command: ["sleep", "1000"] })).then(() => undefined, (e: ServiceError) => e);
    await new Promise((res) => setTimeout(res, delayMs));
    await removePod(d, podId);
    const err = await creating;
    if (err) assert.ok(err.code === grpc.FAILED_PRECONDITION && /pod sandbox .* (stopped or removed|not ready)/.test(err.details), `delay ${delayMs}: ${err.details}`);
    assert.deepEqual(await listCtrs(d, { podSandboxId: podId }), [], `delay ${delayMs}: no container outlives its pod`);
  }
  await env.leaks.assertNoLeaks();
});

test("StartContainer twice is FailedPrecondition; StopContainer on an exited or never-started container returns at once; status times are ordered", async (t) => {
  const env = await ctrEnv(t, r);
  const { d } = env;
  const { podId, id: done } = await runCtr(env, { command: ["true"] });
  await assert.rejects(startCtr(d, done), code(grpc.FAILED_PRECONDITION, /only a created container can be started/));
  const exited = await waitState(d, done, ContainerState.CONTAINER_EXITED);
  const t0 = Date.now();
  await stopCtr(d, done, 30n);
  const created = await createCtr(env, podId, ctrConfig(env, { command: ["sleep", "1000"] }));
  await stopCtr(d, created, 30n);
  assert.ok(Date.now() - t0 < 10_000, `stops took ${Date.now() - t0} ms`);
  const after = await ctrStatus(d, done);
  assert.deepEqual(after.status, exited.status, "stopping an exited container changes nothing");
  const s = exited.status!;
  assert.ok(s.createdAt > 0n && s.startedAt >= s.createdAt && s.finishedAt >= s.startedAt, `${s.createdAt} ${s.startedAt} ${s.finishedAt}`);
  const c = (await ctrStatus(d, created)).status!;
  assert.equal(c.state, ContainerState.CONTAINER_EXITED);
  assert.equal(c.startedAt, 0n, "never started");
  await removePod(d, podId);
  await env.leaks.assertNoLeaks();
});

test("a CreateContainer retried after its deadline passed gets the container the first call made, not AlreadyExists", async (t) => {
  const env = await ctrEnv(t, r);
  const { d } = env;
  const c = d.client;
  const podId = await runPodWithLogs(env);
  let timedOut = 0;
  for (const deadlineMs of [2, 5, 10, 20, 40, 80]) {
    const config = ctrConfig(env, { name: `retry-${deadlineMs}`, command: ["sleep", "1000"] });
    const req = CreateContainerRequest.fromPartial({ podSandboxId: podId, config });
    const first = await call(c, c.runtime, c.runtime.createContainer, req, deadlineMs).then((x) => x.containerId, (e: ServiceError) => e);
    let id: string;
    if (typeof first === "string") {
      id = first;
    } else {
      assert.equal(first.code, grpc.DEADLINE_EXCEEDED, first.details);
      timedOut++;
      // kubelet's retry: while the first call still runs the name is reserved; then the retry gets its container.
      for (let i = 0; ; i++) {
        const again = await call(c, c.runtime, c.runtime.createContainer, req, 60_000).then((x) => x.containerId, (e: ServiceError) => e);
        if (typeof again === "string") {
          id = again;
          break;
        }
        assert.ok(again.code === grpc.ALREADY_EXISTS && /being created/.test(again.details) && i < 500, `deadline ${deadlineMs} ms, retry ${i}: ${again.details}`);
        await new Promise((res) => setTimeout(res, 20));
      }
    }
    const same = await listCtrs(d, { podSandboxId: podId, labelSelector: { ctr: config.metadata!.name } });
    assert.deepEqual(same.map((x) => x.id), [id], `deadline ${deadlineMs} ms: one container, the one returned`);
    await assert.rejects(call(c, c.runtime, c.runtime.createContainer, req, 60_000), code(grpc.ALREADY_EXISTS, /already exists/), "once claimed, the name is taken");
    await startCtr(d, id);
  }
  assert.ok(timedOut > 0, "at least one first call passed its deadline");
  await removePod(d, podId);
  await env.leaks.assertNoLeaks();
});

test("created as kubelet does (image by ID + user_specified_image): status and list show the name asked for, the digested ref and the ID", async (t) => {
  const env = await ctrEnv(t, r);
  const { d } = env;
  const podId = await runPodWithLogs(env);
  const image = { image: r.busybox.configDigest, userSpecifiedImage: r.busybox.reference, annotations: {}, runtimeHandler: "", imageRef: "" };
  const id = await createCtr(env, podId, ctrConfig(env, { image, command: ["sleep", "1000"] }));
  await startCtr(d, id);
  const s = (await waitState(d, id, ContainerState.CONTAINER_RUNNING)).status!;
  assert.equal(s.image!.image, r.busybox.reference, "image.image: the name the user asked for, not the ID");
  assert.equal(s.image!.userSpecifiedImage, r.busybox.reference);
  assert.equal(s.imageRef, digested(r.busybox), "image_ref: name@sha256:<manifest digest>, pullable");
  assert.equal(s.imageId, r.busybox.configDigest, "image_id: the image ID (PullImage's image_ref)");
  const [l] = await listCtrs(d, { id });
  assert.equal(l!.image!.image, r.busybox.reference);
  assert.equal(l!.imageRef, digested(r.busybox));
  assert.equal(l!.imageId, r.busybox.configDigest);
  // Without user_specified_image (crictl): image.image is what the config named.
  const byId = await createCtr(env, podId, ctrConfig(env, { image: { ...image, userSpecifiedImage: "" }, command: ["true"] }));
  const s2 = (await ctrStatus(d, byId)).status!;
  assert.equal(s2.image!.image, r.busybox.configDigest);
  assert.equal(s2.imageRef, digested(r.busybox), "still the digested reference (the image's repo digest)");
  await removePod(d, podId);
  await env.leaks.assertNoLeaks();
});

test("a command that does not exist: CreateContainer succeeds, StartContainer fails, the container is EXITED with StartError and 128 (containerd)", async (t) => {
  const env = await ctrEnv(t, r);
  const { d } = env;
  const podId = await runPodWithLogs(env);
  for (const [command, why] of [[["/no/such/binary"], /no such file or directory/], [["nosuchcmd"], /executable file not found/]] as const) {
    const id = await createCtr(env, podId, ctrConfig(env, { command: [...command] }));
    assert.equal((await ctrStatus(d, id)).status!.state, ContainerState.CONTAINER_CREATED);
    await assert.rejects(startCtr(d, id), (e: ServiceError) => why.test(e.details) && e.details.includes(command[0]));
    const s = (await ctrStatus(d, id)).status!;
    assert.equal(s.state, ContainerState.CONTAINER_EXITED);
    assert.equal(s.reason, "StartError");
    assert.equal(s.exitCode, 128);
    assert.match(s.message, why);
    assert.ok(s.finishedAt >= s.startedAt && s.finishedAt > 0n);
    await assert.rejects(startCtr(d, id), code(grpc.FAILED_PRECONDITION, /exited/));
    await removeCtr(d, id);
  }
  // Stopped before it was started: it can never run, so it ends the same way.
  const never = await createCtr(env, podId, ctrConfig(env, { command: ["/no/such/binary"] }));
  await stopCtr(d, never);
  const s = (await ctrStatus(d, never)).status!;
  assert.equal(s.state, ContainerState.CONTAINER_EXITED);
  assert.equal(s.reason, "StartError");
  await removePod(d, podId);
  assert.deepEqual(await readdir(join(d.state, "containers")), []);
  assert.deepEqual(await readdir(join(d.root, "containers")), []);
  assert.doesNotMatch(await readFile("/proc/self/mountinfo", "utf8"), new RegExp(`${d.dir}\\S* .* - overlay `));
  await env.leaks.assertNoLeaks();
});

test("verbose PodSandboxStatus carries a pid that nsenter can use: the earliest running container's, or the infra process'", async (t) => {
  const env = await ctrEnv(t, r);
  const { d } = env;
  const pidOf = async (podId: string) => (JSON.parse((await podStatus(d, podId, true)).info["info"]!) as { pid: number }).pid;
  const { podId, id } = await runCtr(env, { command: ["sleep", "1000"] });
  await waitState(d, id, ContainerState.CONTAINER_RUNNING);
  const ip = (await podStatus(d, podId, false)).status!.network!.ip;
  assert.ok(ip !== "", "the pod has an IP");
  const pid = await pidOf(podId);
  assert.ok(pid > 0, "a pod with a running container has a pid");
  const addrs = execFileSync("nsenter", ["-t", String(pid), "-n", "ip", "-o", "addr"], { encoding: "utf8" });
  assert.ok(addrs.includes(` ${ip}/`), `nsenter -t ${pid} -n ip addr shows the pod IP ${ip}: ${addrs}`);
  await stopCtr(d, id, 0n);
  assert.equal(await pidOf(podId), 0, "nothing runs in the pod: 0 (netnsPath is there for nsenter --net=)");

  // A shared-PID pod has its infra process from the start, before any container.
  const shared = await runPodWithLogs(env, { pid: NamespaceMode.POD });
  const infraPid = await pidOf(shared);
  assert.ok(infraPid > 0);
  const sharedIp = (await podStatus(d, shared, false)).status!.network!.ip;
  assert.ok(execFileSync("nsenter", ["-t", String(infraPid), "-n", "ip", "-o", "addr"], { encoding: "utf8" }).includes(` ${sharedIp}/`));
  await removePod(d, podId);
  await removePod(d, shared);
  await env.leaks.assertNoLeaks();
});

test("supplemental groups: Merge adds the image's /etc/group memberships, Strict only what was asked; ContainerStatus.user is the effective user", async (t) => {
  const env = await ctrEnv(t, r, { pull: [r.rich!.reference] });
  const { d } = env;
  const podId = await runPodWithLogs(env);
  const rich = { image: r.rich!.reference, annotations: {}, userSpecifiedImage: "", runtimeHandler: "", imageRef: "" };
  const run = async (policy: SupplementalGroupsPolicy) => {
    const id = await createCtr(env, podId, ctrConfig(env, {
      image: rich, command: ["id", "-G"],
      linux: { securityContext: { supplementalGroups: [7n], supplementalGroupsPolicy: policy } } as never,
    }));
    await startCtr(d, id);
    const s = (await waitState(d, id, ContainerState.CONTAINER_EXITED)).status!;
    return { groups: (await logText(s.logPath)).trim().split(" ").map(Number).sort((a, b) => a - b), user: s.user!.linux! };
  };
  const merge = await run(SupplementalGroupsPolicy.Merge);
  assert.deepEqual(merge.groups, [7, 50, 1000], "the image's app is in staff (50): Merge keeps it");
  assert.deepEqual({ ...merge.user, supplementalGroups: [...merge.user.supplementalGroups].sort((a, b) => Number(a - b)) }, { uid: 1000n, gid: 1000n, supplementalGroups: [7n, 50n, 1000n] });
  const strict = await run(SupplementalGroupsPolicy.Strict);
  assert.deepEqual(strict.groups, [7, 1000], "Strict: only the primary group and the requested ones");
  assert.deepEqual({ ...strict.user, supplementalGroups: [...strict.user.supplementalGroups].sort((a, b) => Number(a - b)) }, { uid: 1000n, gid: 1000n, supplementalGroups: [7n, 1000n] });
  await removePod(d, podId);
  await env.leaks.assertNoLeaks();
});

/** A directory's entries; none when it does not exist. */
async function entries(dir: string): Promise<string[]> {
  return readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return [];
    throw err;
  });
}

test("10 pods at once under a brand-new cgroup parent all run a container (cgroup v1 cpuset seeded before any child is made)", async (t) => {
  // Regression: concurrent pods share the new parent; one that saw it made but not yet seeded
  // seeded its own cgroup from the empty parent, and conmon's leaf refused it (ENOSPC on cpuset).
  const env = await ctrEnv(t, r);
  const ids = await Promise.all(Array.from({ length: 10 }, async (_, i) => {
    const { id } = await runCtr(env, { command: ["sleep", "1000"], name: `c${i}` }, { name: `burst-${i}`, pid: i % 2 ? NamespaceMode.POD : NamespaceMode.CONTAINER });
    return id;
  }));
  for (const id of ids) await waitState(env.d, id, ContainerState.CONTAINER_RUNNING);
});
