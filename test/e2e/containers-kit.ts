// What the container end-to-end tests share: a pod environment (own CNI network, cgroup parent,
// leak checker) whose daemon pulls from a fixture registry holding busybox; typed CRI helpers.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { call } from "../../src/cli/client.js";
import {
  ContainerConfig,
  ContainerState,
  CreateContainerRequest,
  ListContainersRequest,
  type ContainerStatusResponse,
  type ExecSyncResponse,
} from "../../src/generated/runtime/v1/api.js";
import type { Daemon } from "../fixtures/daemon.js";
import { pushBusybox, pushRichImage, type PushedImage } from "../fixtures/images.js";
import { startRegistry, writeHostsToml, type FixtureRegistry } from "../fixtures/registry.js";
import { podEnv, podRequest, type PodEnv, type PodEnvOptions, type PodOptions } from "./pods-kit.js";

export interface Registry {
  reg: FixtureRegistry;
  busybox: PushedImage;
  rich?: PushedImage;
  certsD: string;
}

/** One registry (with busybox, and the rich image on request) for a whole test file. */
export async function sharedRegistry(o: { rich?: boolean } = {}): Promise<Registry & { stop(): Promise<void> }> {
  const reg = await startRegistry();
  const certsD = await mkdtemp(join(tmpdir(), "berth-ctr-certsd-"));
  await writeHostsToml(certsD, reg);
  const busybox = await pushBusybox(reg);
  const rich = o.rich ? await pushRichImage(reg) : undefined;
  return {
    reg, busybox, certsD, ...(rich ? { rich } : {}),
    async stop() {
      await reg.stop();
      await rm(certsD, { recursive: true, force: true });
    },
  };
}

export interface CtrEnv extends PodEnv {
  r: Registry;
  /** The busybox reference, pulled. */
  image: string;
  /** Pod log directories go under here. */
  logRoot: string;
}

export async function ctrEnv(t: TestContext, r: Registry, o: PodEnvOptions & { pull?: string[] } = {}): Promise<CtrEnv> {
  const registryToml = `\n[registry]\nconfig_path = "${r.certsD}"\nregistries_conf = "${join(r.certsD, "registries.conf")}"`;
  const env = await podEnv(t, { ...o, runtimeToml: (o.runtimeToml ?? "") + registryToml });
  const logRoot = join(env.d.dir, "logs");
  const out: CtrEnv = Object.assign(env, { r, image: r.busybox.reference, logRoot });
  for (const ref of [r.busybox.reference, ...(o.pull ?? [])]) await pull(env.d, ref);
  return out;
}

export async function pull(d: Daemon, image: string): Promise<string> {
  const c = d.client;
  const spec = { image, annotations: {}, userSpecifiedImage: "", runtimeHandler: "", imageRef: "" };
  return (await call(c, c.image, c.image.pullImage, { image: spec, auth: undefined, sandboxConfig: undefined }, 60_000)).imageRef;
}

const hex = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join("");

/** A pod request with a log directory under the env's log root. */
export function podWithLogs(env: CtrEnv, o: PodOptions = {}) {
  const name = o.name ?? `pod-${hex(4)}`;
  return podRequest({ ...o, name, config: { logDirectory: join(env.logRoot, name), ...o.config } });
}

export async function runPodWithLogs(env: CtrEnv, o: PodOptions = {}): Promise<string> {
  const c = env.d.client;
  return (await call(c, c.runtime, c.runtime.runPodSandbox, podWithLogs(env, o), 60_000)).podSandboxId;
}

export function ctrConfig(env: CtrEnv, o: Partial<ContainerConfig> & { name?: string } = {}): ContainerConfig {
  const name = o.name ?? `c-${hex(4)}`;
  const { name: _n, ...rest } = o;
  return ContainerConfig.fromPartial({
    metadata: { name, attempt: 0 },
    image: { image: env.image },
    logPath: `${name}/0.log`,
    labels: { ctr: name },
    annotations: { "test/owner": "containers.test" },
    ...rest,
  });
}

export async function createCtr(env: CtrEnv, podId: string, config: ContainerConfig): Promise<string> {
  const c = env.d.client;
  const req = CreateContainerRequest.fromPartial({ podSandboxId: podId, config });
  return (await call(c, c.runtime, c.runtime.createContainer, req, 60_000)).containerId;
}

export async function startCtr(d: Daemon, id: string): Promise<void> {
  const c = d.client;
  await call(c, c.runtime, c.runtime.startContainer, { containerId: id }, 60_000);
}

/** A pod (with logs) and one started container in it. */
export async function runCtr(env: CtrEnv, o: Partial<ContainerConfig> & { name?: string } = {}, pod: PodOptions = {}): Promise<{ podId: string; id: string }> {
  const podId = await runPodWithLogs(env, pod);
  const id = await createCtr(env, podId, ctrConfig(env, o));
  await startCtr(env.d, id);
  return { podId, id };
}

export async function ctrStatus(d: Daemon, id: string, verbose = false): Promise<ContainerStatusResponse> {
  const c = d.client;
  return call(c, c.runtime, c.runtime.containerStatus, { containerId: id, verbose });
}

export async function waitState(d: Daemon, id: string, state: ContainerState, timeoutMs = 20_000): Promise<ContainerStatusResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await ctrStatus(d, id);
    if (s.status?.state === state) return s;
    if (Date.now() > deadline) throw new Error(`container ${id} did not reach ${ContainerState[state]} in ${timeoutMs} ms (is ${ContainerState[s.status?.state ?? 0]})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function exec(d: Daemon, id: string, cmd: string[], timeout = 10n): Promise<ExecSyncResponse> {
  const c = d.client;
  return call(c, c.runtime, c.runtime.execSync, { containerId: id, cmd, timeout }, 60_000);
}

export async function stopCtr(d: Daemon, id: string, timeout = 10n): Promise<void> {
  const c = d.client;
  await call(c, c.runtime, c.runtime.stopContainer, { containerId: id, timeout }, 60_000);
}

export async function removeCtr(d: Daemon, id: string): Promise<void> {
  const c = d.client;
  await call(c, c.runtime, c.runtime.removeContainer, { containerId: id }, 60_000);
}

export async function listCtrs(d: Daemon, filter: Partial<ListContainersRequest["filter"]> = {}) {
  const c = d.client;
  return (await call(c, c.runtime, c.runtime.listContainers, ListContainersRequest.fromPartial({ filter }))).containers;
}

/** The payloads of a CRI log file, with their stream and tag: [[stream, tag, text], ...]. */
export async function logLines(path: string): Promise<Array<[string, string, string]>> {
  const text = await readFile(path, "utf8").catch(() => "");
  return text.split("\n").filter(Boolean).map((l) => {
    const [, stream = "", tag = "", ...rest] = l.split(" ");
    return [stream, tag, rest.join(" ")];
  });
}

/** A container's combined output as the CRI log holds it (P lines joined to the next). */
export async function logText(path: string): Promise<string> {
  return (await logLines(path)).map(([, tag, text]) => (tag === "P" ? text : `${text}\n`)).join("");
}

export async function waitLog(path: string, re: RegExp, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = await logText(path);
    if (re.test(t)) return t;
    if (Date.now() > deadline) throw new Error(`log ${path} does not match ${re} after ${timeoutMs} ms:\n${t.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
