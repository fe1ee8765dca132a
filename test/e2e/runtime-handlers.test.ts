// Runtime handlers end to end: Status lists the handlers whose start-up probe passed (and the
// default as ""), with features probed on this host; pods run on the handler they name (its runc
// root); unknown and unusable handlers are refused with clear errors; recursive read-only binds.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { release, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { status as grpc, type ServiceError } from "@grpc/grpc-js";
import { call } from "../../src/cli/client.js";
import { ContainerState, MountPropagation, type Mount } from "../../src/generated/runtime/v1/api.js";
import { podStatus, removePod } from "./pods-kit.js";
import { createCtr, ctrConfig, ctrEnv, ctrStatus, exec, removeCtr, runCtr, runPodWithLogs, sharedRegistry, startCtr, waitState, type CtrEnv, type Registry } from "./containers-kit.js";

const code = (c: number, re?: RegExp) => (e: ServiceError) => e.code === c && (!re || re.test(e.details));

let r: Registry & { stop(): Promise<void> };
let scratch: string;
before(async () => {
  r = await sharedRegistry();
  scratch = await mkdtemp(join(tmpdir(), "berth-handlers-"));
  // A runtime that refuses this host the way crun refuses hybrid cgroups: the probe must find that out.
  await writeFile(join(scratch, "refusing-runtime"), "#!/bin/sh\ncase \"$1\" in --version) echo 'refusing 0.1';; features) exit 1;; esac\necho 'cgroups hybrid mode not supported' >&2\nexit 1\n");
  await chmod(join(scratch, "refusing-runtime"), 0o755);
});
/** tmpfs submounts the rro test made (unmounted here even when a test hook failed first). */
const submounts: string[] = [];
after(async () => {
  await r.stop();
  for (const m of submounts) spawnSync("umount", [m]);
  await rm(scratch, { recursive: true, force: true });
});

async function handlerEnv(t: Parameters<typeof ctrEnv>[0]): Promise<CtrEnv & { altRoot: string }> {
  const altRoot = join(scratch, `alt-${Math.random().toString(16).slice(2, 8)}`);
  const runtimeToml = [
    `[runtime.handlers.alt]`, `runtime_path = "runc"`, `runtime_root = "${altRoot}"`,
    `[runtime.handlers.refusing]`, `runtime_path = "${join(scratch, "refusing-runtime")}"`,
  ].join("\n");
  return Object.assign(await ctrEnv(t, r, { runtimeToml: `\n${runtimeToml}` }), { altRoot });
}

/** What this host's runc and kernel allow: rro in `runc features` and Linux 5.12+. */
function hostHasRro(): boolean {
  const f = JSON.parse(execFileSync("runc", ["features"], { encoding: "utf8" })) as { mountOptions: string[] };
  const [maj = 0, min = 0] = release().split(".").map(Number);
  return f.mountOptions.includes("rro") && (maj > 5 || (maj === 5 && min >= 12));
}

test("Status lists the default handler as \"\" and every usable handler with probed features; a refusing runtime is left out", async (t) => {
  const env = await handlerEnv(t);
  const c = env.d.client;
  const s = await call(c, c.runtime, c.runtime.status, { verbose: true });
  const byName = new Map(s.runtimeHandlers.map((h) => [h.name, h.features]));
  assert.ok(byName.has("") && byName.has("runc") && byName.has("alt"), `handlers: ${[...byName.keys()].join(", ")}`);
  assert.ok(!byName.has("refusing"), "a handler whose probe container failed is not offered to kubelet");
  const rro = hostHasRro();
  for (const name of ["", "runc", "alt"]) assert.deepEqual(byName.get(name), { recursiveReadOnlyMounts: rro, userNamespaces: false }, `handler "${name}"`);
  assert.deepEqual(s.features, { supplementalGroupsPolicy: true, userNamespacesHostNetwork: false });
  const verbose = JSON.parse(s.info["handlerProbes"]!) as Array<{ name: string; usable: boolean; reason: string; version: string }>;
  const refusing = verbose.find((h) => h.name === "refusing")!;
  assert.equal(refusing.usable, false);
  assert.match(refusing.reason, /cgroups hybrid mode not supported/);
  assert.match(verbose.find((h) => h.name === "runc")!.version, /^runc version /);
  assert.match(env.d.logs(), /runtime handler unusable on this host/);
  await env.leaks.assertNoLeaks();
});

test("a pod runs on the handler it names (its own runtime root); unknown handlers are InvalidArgument, unusable ones FailedPrecondition", async (t) => {
  const env = await handlerEnv(t);
  const { d } = env;
  await assert.rejects(runPodWithLogs(env, { runtimeHandler: "nope" }), code(grpc.INVALID_ARGUMENT, /runtime handler "nope" is not configured; known handlers: .*runc.*alt.*refusing|known handlers: .*alt/));
  await assert.rejects(runPodWithLogs(env, { runtimeHandler: "refusing" }), code(grpc.FAILED_PRECONDITION, /runtime handler "refusing" cannot run pods on this node: .*cgroups hybrid mode not supported/));
  const { podId, id } = await runCtr(env, { command: ["sleep", "1000"] }, { runtimeHandler: "alt" });
  await waitState(d, id, ContainerState.CONTAINER_RUNNING);
  assert.equal((await podStatus(d, podId, false)).status!.runtimeHandler, "alt");
  const list = (root: string) => execFileSync("runc", ["--root", root, "list", "-q"], { encoding: "utf8" }).split("\n").filter(Boolean);
  assert.deepEqual(list(env.altRoot), [id], "the alt handler's runc root holds the container");
  assert.ok(!list(join(d.state, "runc")).includes(id), "the default root does not");
  assert.equal((await exec(d, id, ["echo", "hi"])).stdout.toString(), "hi\n", "exec goes to the same runtime");
  // The default handler (empty runtime_handler) still works beside it.
  const other = await runCtr(env, { command: ["sleep", "1000"] });
  assert.equal((await podStatus(d, other.podId, false)).status!.runtimeHandler, "runc");
  assert.ok(list(join(d.state, "runc")).includes(other.id));
  // Across a daemon restart the container is still driven through its handler's root.
  const d2 = await env.restart();
  assert.equal((await exec(d2, id, ["echo", "again"])).stdout.toString(), "again\n");
  await removeCtr(d2, id);
  assert.deepEqual(list(env.altRoot), [], "runc delete went to the alt root");
  await removePod(d2, podId);
  await removePod(d2, other.podId);
  await env.leaks.assertNoLeaks();
});

test("recursive read-only: a bind of a tree with a tmpfs submount is read-only all the way down; the CRI's forbidden combinations are InvalidArgument", { skip: hostHasRro() ? false : "runc here lacks rro or the kernel is older than 5.12" }, async (t) => {
  const env = await handlerEnv(t);
  const { d } = env;
  const host = join(scratch, `tree-${Math.random().toString(16).slice(2, 8)}`);
  await mkdir(join(host, "sub"), { recursive: true });
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", join(host, "sub")]);
  submounts.push(join(host, "sub"));
  const mount = (o: Partial<Mount>): Mount => ({
    containerPath: "/tree", hostPath: host, readonly: true, selinuxRelabel: false, propagation: MountPropagation.PROPAGATION_PRIVATE,
    uidMappings: [], gidMappings: [], recursiveReadOnly: true, image: undefined, imageSubPath: "", ...o,
  });
  const podId = await runPodWithLogs(env);
  const write = ["sh", "-c", "touch /tree/top 2>/dev/null && echo top-writable; touch /tree/sub/inner 2>/dev/null && echo sub-writable; echo done"];
  const rro = await createCtr(env, podId, ctrConfig(env, { command: ["sleep", "1000"], mounts: [mount({})] }));
  await startCtr(d, rro);
  assert.equal((await exec(d, rro, write)).stdout.toString(), "done\n", "neither the tree nor its submount is writable");
  // Plain read-only (the old behaviour) leaves the submount writable: what rro is for.
  const ro = await createCtr(env, podId, ctrConfig(env, { command: ["sleep", "1000"], mounts: [mount({ recursiveReadOnly: false })] }));
  await startCtr(d, ro);
  assert.equal((await exec(d, ro, write)).stdout.toString(), "sub-writable\ndone\n");
  for (const [bad, why] of [[mount({ readonly: false }), /mounts\[0\]: recursive_read_only needs readonly/], [mount({ propagation: MountPropagation.PROPAGATION_HOST_TO_CONTAINER }), /mounts\[0\]: recursive_read_only needs PROPAGATION_PRIVATE/]] as const) {
    await assert.rejects(createCtr(env, podId, ctrConfig(env, { command: ["true"], mounts: [bad] })), code(grpc.INVALID_ARGUMENT, why));
  }
  const s = await ctrStatus(d, rro);
  assert.equal(s.status!.mounts[0]!.recursiveReadOnly, true);
  await removePod(d, podId);
  await env.leaks.assertNoLeaks();
});

test("a default handler that fails its probe: RuntimeReady is false saying why, and pods naming no handler are refused", async (t) => {
  const runtimeToml = `default_handler = "refusing"\n[runtime.handlers.refusing]\nruntime_path = "${join(scratch, "refusing-runtime")}"`;
  const env = await ctrEnv(t, r, { runtimeToml });
  const c = env.d.client;
  const s = await call(c, c.runtime, c.runtime.status, { verbose: false });
  const ready = s.status!.conditions.find((x) => x.type === "RuntimeReady")!;
  assert.equal(ready.status, false);
  assert.equal(ready.reason, "RuntimeHandlerUnusable");
  assert.match(ready.message, /default runtime handler "refusing" failed its start-up probe: .*cgroups hybrid mode not supported/);
  assert.ok(!s.runtimeHandlers.some((h) => h.name === "" || h.name === "refusing"), "no default handler is offered");
  await assert.rejects(runPodWithLogs(env), code(grpc.FAILED_PRECONDITION, /runtime handler "refusing" cannot run pods/));
  await env.leaks.assertNoLeaks();
});
