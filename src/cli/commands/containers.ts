// Client commands for containers, as crictl spells them: create, start, run, ps, inspect, exec
// (sync), stop, rm, stats, update. Container configs are crictl's JSON/YAML (snake_case or camelCase).
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import {
  ContainerConfig,
  ContainerState,
  ContainerStatus,
  containerStateToJSON,
  CreateContainerRequest,
  LinuxContainerResources,
  ListContainersRequest,
  ListPodSandboxRequest,
  PodSandboxConfig,
  RunPodSandboxRequest,
  Signal,
  type Container,
  type ContainerStats,
} from "../../generated/runtime/v1/api.js";
import { criSignalFromName } from "../../containers/signals.js";
import { call, type CriClient } from "../client.js";
import { parseFormat, printStructured, printTable, UsageError, decodeInfo } from "../output.js";
import { ago, type PodArgs } from "./pods.js";
import { removeMany } from "./remove-many.js";

/** Flags of these commands on top of the pod ones (merged by main). */
export const CONTAINER_OPTIONS = {
  pod: { type: "string" },
  image: { type: "string" },
  "no-pull": { type: "boolean" },
  follow: { type: "boolean" },
  tail: { type: "string" },
  since: { type: "string" },
  timestamps: { type: "boolean" },
  memory: { type: "string" },
  "cpu-quota": { type: "string" },
  "cpu-period": { type: "string" },
  "cpu-share": { type: "string" },
  "cpuset-cpus": { type: "string" },
  "cpuset-mems": { type: "string" },
  seconds: { type: "string" },
} as const;

export interface ContainerArgs extends PodArgs {
  values: PodArgs["values"] & {
    timeout?: string | undefined;
    pod?: string | undefined;
    image?: string | undefined;
    "no-pull"?: boolean | undefined;
    follow?: boolean | undefined;
    tail?: string | undefined;
    since?: string | undefined;
    timestamps?: boolean | undefined;
    memory?: string | undefined;
    "cpu-quota"?: string | undefined;
    "cpu-period"?: string | undefined;
    "cpu-share"?: string | undefined;
    "cpuset-cpus"?: string | undefined;
    "cpuset-mems"?: string | undefined;
    seconds?: string | undefined;
  };
}

const LONG_MS = 120_000;

async function readDoc(file: string, what: string): Promise<Record<string, unknown>> {
  let doc: unknown;
  try {
    doc = parseYaml(await readFile(file, "utf8"));
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${file}: ${(err as Error).message}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new UsageError(`${file} must hold one ${what} object`);
  return doc as Record<string, unknown>;
}

/** crictl's files carry env values as text; the wire type is bytes (base64 in proto JSON). */
export async function readContainerConfig(file: string): Promise<ContainerConfig> {
  const doc = await readDoc(file, "container config");
  if (Array.isArray(doc["envs"])) {
    doc["envs"] = doc["envs"].map((e: unknown) => {
      const kv = (e ?? {}) as { key?: unknown; value?: unknown };
      return { key: kv.key, value: Buffer.from(String(kv.value ?? "")).toString("base64") };
    });
  }
  // Either CRI spelling of the Signal enum (1.37 renamed SIGUSR1 to SIGNAL_SIGUSR1), or a number.
  for (const key of ["stop_signal", "stopSignal"]) {
    const v = doc[key];
    if (typeof v !== "string") continue;
    const sig = criSignalFromName(v);
    if (sig === Signal.UNRECOGNIZED) throw new UsageError(`${file}: ${key} ${JSON.stringify(v)} is not a CRI signal name (e.g. SIGUSR1 or SIGNAL_SIGUSR1)`);
    doc[key] = sig;
  }
  return ContainerConfig.fromJSON(doc);
}

async function readPodConfig(file: string): Promise<PodSandboxConfig> {
  return PodSandboxConfig.fromJSON(await readDoc(file, "pod config"));
}

/** Pulls the image unless it is there (or --no-pull), as crictl create/run do. */
async function ensureImage(c: CriClient, image: string, pod: PodSandboxConfig, noPull: boolean): Promise<void> {
  const spec = { image, annotations: {}, userSpecifiedImage: "", runtimeHandler: "", imageRef: "" };
  if (noPull) return;
  const s = await call(c, c.image, c.image.imageStatus, { image: spec, verbose: false });
  if (s.image) return;
  await call(c, c.image, c.image.pullImage, { image: spec, auth: undefined, sandboxConfig: pod }, Math.max(c.timeoutMs, 600_000));
}

async function createIn(c: CriClient, podId: string, config: ContainerConfig, pod: PodSandboxConfig, noPull: boolean): Promise<string> {
  const image = config.image?.image ?? "";
  if (!image) throw new UsageError("the container config has no image.image");
  await ensureImage(c, image, pod, noPull);
  const req = CreateContainerRequest.fromPartial({ podSandboxId: podId, config, sandboxConfig: pod });
  return (await call(c, c.runtime, c.runtime.createContainer, req, Math.max(c.timeoutMs, LONG_MS))).containerId;
}

/** `berth create POD_ID CONTAINER.json POD.json`: prints the new container's ID. */
export async function createCommand(c: CriClient, a: ContainerArgs): Promise<void> {
  const [podId, ctrFile, podFile, ...extra] = a.positionals;
  if (!podId || !ctrFile || !podFile || extra.length) throw new UsageError("berth create: expected POD_ID CONTAINER.json POD.json");
  const id = await createIn(c, podId, await readContainerConfig(ctrFile), await readPodConfig(podFile), !!a.values["no-pull"]);
  process.stdout.write(`${id}\n`);
}

export async function startCommand(c: CriClient, a: ContainerArgs): Promise<void> {
  for (const id of ids(a, "start")) {
    await call(c, c.runtime, c.runtime.startContainer, { containerId: id }, Math.max(c.timeoutMs, LONG_MS));
    process.stdout.write(`${id}\n`);
  }
}

/** `berth run [--runtime H] CONTAINER.json POD.json`: a pod and one started container, like crictl run. */
export async function runCommand(c: CriClient, a: ContainerArgs): Promise<void> {
  const [ctrFile, podFile, ...extra] = a.positionals;
  if (!ctrFile || !podFile || extra.length) throw new UsageError("berth run: expected CONTAINER.json POD.json");
  const [config, pod] = await Promise.all([readContainerConfig(ctrFile), readPodConfig(podFile)]);
  const req = RunPodSandboxRequest.fromPartial({ config: pod, runtimeHandler: a.values.runtime ?? "" });
  const podId = (await call(c, c.runtime, c.runtime.runPodSandbox, req, Math.max(c.timeoutMs, LONG_MS))).podSandboxId;
  const id = await createIn(c, podId, config, pod, !!a.values["no-pull"]);
  await call(c, c.runtime, c.runtime.startContainer, { containerId: id }, Math.max(c.timeoutMs, LONG_MS));
  process.stdout.write(`${id}\n`);
}

const STATES: Record<string, ContainerState> = {
  created: ContainerState.CONTAINER_CREATED,
  running: ContainerState.CONTAINER_RUNNING,
  exited: ContainerState.CONTAINER_EXITED,
  unknown: ContainerState.CONTAINER_UNKNOWN,
};

export function stateName(s: ContainerState): string {
  return ({ 0: "Created", 1: "Running", 2: "Exited", 3: "Unknown" } as Record<number, string>)[s] ?? "Unknown";
}

function labels(list: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list ?? []) {
    const i = l.indexOf("=");
    if (i <= 0) throw new UsageError(`--label "${l}": expected key=value`);
    out[l.slice(0, i)] = l.slice(i + 1);
  }
  return out;
}

function ids(a: ContainerArgs, cmd: string): string[] {
  if (a.positionals.length === 0) throw new UsageError(`berth ${cmd}: expected one or more container IDs`);
  return a.positionals;
}

/** `berth ps`: running containers (all with -a), crictl's filters and columns. */
export async function psCommand(c: CriClient, a: ContainerArgs): Promise<void> {
  const v = a.values;
  const format = parseFormat(v.output);
  let state: ContainerState | undefined;
  if (v.state !== undefined) {
    state = STATES[v.state.toLowerCase().replace(/^container_/, "")];
    if (state === undefined) throw new UsageError(`--state "${v.state}": expected created, running, exited or unknown`);
  } else if (!v.all) {
    state = ContainerState.CONTAINER_RUNNING;
  }
  const req = ListContainersRequest.fromPartial({
    filter: { id: v.id ?? "", podSandboxId: v.pod ?? "", labelSelector: labels(v.label), ...(state !== undefined ? { state: { state } } : {}) },
  });
  let name: RegExp | undefined;
  try {
    name = v.name === undefined ? undefined : new RegExp(v.name);
  } catch {
    throw new UsageError(`--name "${v.name}": not a regular expression`);
  }
  let items = (await call(c, c.runtime, c.runtime.listContainers, req)).containers
    .filter((x) => !name || name.test(x.metadata?.name ?? ""))
    .sort((x, y) => (x.createdAt > y.createdAt ? -1 : x.createdAt < y.createdAt ? 1 : 0));
  const last = v.latest ? 1 : v.last !== undefined ? Number(v.last) : undefined;
  if (last !== undefined) {
    if (!Number.isInteger(last) || last < 0) throw new UsageError(`--last "${v.last}": expected a count`);
    items = items.slice(0, last);
  }
  if (v.quiet) {
    process.stdout.write(items.map((x) => `${x.id}\n`).join(""));
    return;
  }
  if (format !== "table") {
    return printStructured({ containers: items.map((x) => ({ ...(summary(x) as object) })) }, format);
  }
  const pods = new Map((await call(c, c.runtime, c.runtime.listPodSandbox, ListPodSandboxRequest.fromPartial({}))).items.map((p) => [p.id, p.metadata?.name ?? ""]));
  const trunc = (s: string) => (v["no-trunc"] ? s : s.slice(0, 13));
  printTable(
    ["CONTAINER", "IMAGE", "CREATED", "STATE", "NAME", "ATTEMPT", "POD ID", "POD"],
    items.map((x) => [
      trunc(x.id),
      x.image?.image ?? x.imageRef,
      ago(x.createdAt),
      stateName(x.state),
      x.metadata?.name ?? "",
      String(x.metadata?.attempt ?? 0),
      trunc(x.podSandboxId),
      pods.get(x.podSandboxId) ?? "",
    ]),
  );
}

/** proto3 JSON leaves out zero values, and CONTAINER_CREATED is zero; crictl prints it, so do we. */
function summary(x: Container): unknown {
  return {
    id: x.id, podSandboxId: x.podSandboxId, metadata: x.metadata, image: x.image, imageRef: x.imageRef,
    state: containerStateToJSON(x.state), createdAt: String(x.createdAt), labels: x.labels, annotations: x.annotations,
  };
}

/** `berth inspect ID...`: status plus the decoded verbose info, one JSON (or YAML) document each. */
export async function inspectCommand(c: CriClient, a: ContainerArgs): Promise<void> {
  const format = parseFormat(a.values.output ?? "json", ["json", "yaml", "table"]);
  for (const id of ids(a, "inspect")) {
    const r = await call(c, c.runtime, c.runtime.containerStatus, { containerId: id, verbose: true });
    const info = decodeInfo(r.info);
    const status = r.status ? { ...(ContainerStatus.toJSON(r.status) as object), state: containerStateToJSON(r.status.state) } : null;
    printStructured({ status, ...info }, format === "yaml" ? "yaml" : "json");
  }
}

/** `berth exec ID CMD...` (sync): the command's output on our stdout/stderr, its exit code as ours. */
export async function execCommand(c: CriClient, a: ContainerArgs): Promise<void> {
  const [id, ...cmd] = a.positionals;
  if (!id || cmd.length === 0) throw new UsageError("berth exec: expected ID CMD [ARG...]");
  const r = await call(c, c.runtime, c.runtime.execSync, { containerId: id, cmd, timeout: 0n }, Math.max(c.timeoutMs, 24 * 3600_000));
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exitCode = r.exitCode;
}

/** Stop timeout in seconds: `-t/--timeout` here means the grace period, as in crictl stop. */
export async function stopCommand(c: CriClient, a: ContainerArgs): Promise<void> {
  const t = a.values.timeout ?? "10";
  if (!/^\d+$/.test(t)) throw new UsageError(`--timeout "${t}": expected whole seconds`);
  for (const id of ids(a, "stop")) {
    await call(c, c.runtime, c.runtime.stopContainer, { containerId: id, timeout: BigInt(t) }, (Number(t) + 60) * 1000);
    process.stdout.write(`${id}\n`);
  }
}

/** `berth rm [-f] ID... | -a`: a running container needs -f (it is removed, killed), as in crictl. */
export function rmCommand(c: CriClient, a: ContainerArgs): Promise<void> {
  return removeMany({
    cmd: "rm",
    what: "container",
    ids: a.positionals,
    all: !!a.values.all,
    force: !!a.values.force,
    listAll: async () => (await call(c, c.runtime, c.runtime.listContainers, ListContainersRequest.fromPartial({}))).containers.map((x) => x.id),
    running: async (id) => (await call(c, c.runtime, c.runtime.containerStatus, { containerId: id, verbose: false })).status?.state === ContainerState.CONTAINER_RUNNING,
    stopHint: "berth stop",
    remove: async (id) => void (await call(c, c.runtime, c.runtime.removeContainer, { containerId: id }, Math.max(c.timeoutMs, LONG_MS))),
    removed: (id) => id,
  });
}

/** Sizes as crictl prints them (go-units HumanSize: decimal units, 4 significant digits). */
export function humanSize(n: bigint | number): string {
  let v = Number(n);
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

/** `berth stats [ID...]`: CPU % (of one core), memory working set, writable layer bytes and inodes. */
export async function statsCommand(c: CriClient, a: ContainerArgs): Promise<void> {
  const v = a.values;
  const format = parseFormat(v.output);
  const filter = { id: v.id ?? a.positionals[0] ?? "", podSandboxId: v.pod ?? "", labelSelector: labels(v.label) };
  let stats = (await call(c, c.runtime, c.runtime.listContainerStats, { filter })).stats;
  // The first scan of a container has no rate yet: a second one a moment later does.
  if (stats.some((s) => s.cpu && !s.cpu.usageNanoCores)) {
    await new Promise((r) => setTimeout(r, Math.max(1100, Number(v.seconds ?? "1") * 1000)));
    stats = (await call(c, c.runtime, c.runtime.listContainerStats, { filter })).stats;
  }
  if (!v.all) {
    const running = new Set((await call(c, c.runtime, c.runtime.listContainers, ListContainersRequest.fromPartial({ filter: { state: { state: ContainerState.CONTAINER_RUNNING } } }))).containers.map((x) => x.id));
    stats = stats.filter((s) => running.has(s.attributes?.id ?? ""));
  }
  if (format !== "table") return printStructured({ stats: stats.map((s) => statsJson(s)) }, format);
  const trunc = (s: string) => (v["no-trunc"] ? s : s.slice(0, 13));
  printTable(
    ["CONTAINER", "NAME", "CPU %", "MEM", "DISK", "INODES"],
    stats.map((s) => [
      trunc(s.attributes?.id ?? ""),
      s.attributes?.metadata?.name ?? "",
      (Number(s.cpu?.usageNanoCores?.value ?? 0n) / 1e7).toFixed(2),
      humanSize(s.memory?.workingSetBytes?.value ?? 0n),
      humanSize(s.writableLayer?.usedBytes?.value ?? 0n),
      String(s.writableLayer?.inodesUsed?.value ?? 0n),
    ]),
  );
}

function statsJson(s: ContainerStats): unknown {
  return JSON.parse(JSON.stringify(s, (_k, val: unknown) => (typeof val === "bigint" ? String(val) : val)));
}

/** Bytes with an optional k/m/g suffix (binary, as docker's --memory). */
export function parseBytes(s: string, flag: string): bigint {
  const m = /^(\d+)([kKmMgG]?)[bB]?$/.exec(s.trim());
  if (!m) throw new UsageError(`--${flag} "${s}": expected bytes, optionally with k, m or g`);
  const mult = { "": 1n, k: 1024n, m: 1024n ** 2n, g: 1024n ** 3n }[m[2]!.toLowerCase() as "" | "k" | "m" | "g"];
  return BigInt(m[1]!) * mult;
}

function int(s: string | undefined, flag: string): bigint {
  if (s === undefined) return 0n;
  if (!/^-?\d+$/.test(s)) throw new UsageError(`--${flag} "${s}": expected an integer`);
  return BigInt(s);
}

/** `berth update --memory 64m --cpu-quota N ... ID...`: unset flags keep their values. */
export async function updateCommand(c: CriClient, a: ContainerArgs): Promise<void> {
  const v = a.values;
  const linux = LinuxContainerResources.fromPartial({
    memoryLimitInBytes: v.memory === undefined ? 0n : parseBytes(v.memory, "memory"),
    cpuQuota: int(v["cpu-quota"], "cpu-quota"),
    cpuPeriod: int(v["cpu-period"], "cpu-period"),
    cpuShares: int(v["cpu-share"], "cpu-share"),
    cpusetCpus: v["cpuset-cpus"] ?? "",
    cpusetMems: v["cpuset-mems"] ?? "",
  });
  for (const id of ids(a, "update")) {
    await call(c, c.runtime, c.runtime.updateContainerResources, { containerId: id, linux, windows: undefined, annotations: {} });
    process.stdout.write(`${id}\n`);
  }
}

/**
 * Splits `exec` arguments: flags before the container ID are ours, everything after it is the
 * command (so `berth exec ID ls -l` passes -l on). `valueFlags` are the flags that take a value.
 */
export function splitExecArgs(args: readonly string[], valueFlags: ReadonlySet<string>): { flags: string[]; rest: string[] } {
  const flags: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const t = args[i]!;
    if (t === "--") return { flags, rest: args.slice(i + 1) };
    if (!t.startsWith("-") || t === "-") return { flags, rest: args.slice(i) };
    flags.push(t);
    if (!t.includes("=") && valueFlags.has(t) && i + 1 < args.length) flags.push(args[++i]!);
  }
  return { flags, rest: [] };
}
