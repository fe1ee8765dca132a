// Client commands for pod sandboxes, as crictl spells them: `runp`, `pods`, `inspectp`,
// `stopp`, `rmp`. Pod configs are crictl's JSON/YAML (snake_case or camelCase keys).
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import {
  ListPodSandboxRequest,
  PodSandbox,
  PodSandboxConfig,
  PodSandboxState,
  PodSandboxStatus,
  podSandboxStateToJSON,
  RunPodSandboxRequest,
} from "../../generated/runtime/v1/api.js";
import { call, type CriClient } from "../client.js";
import { parseFormat, printStructured, printTable, UsageError, decodeInfo } from "../output.js";
import { removeMany } from "./remove-many.js";

/** Flags of these commands, merged with the client flags by main. */
export const POD_OPTIONS = {
  runtime: { type: "string" },
  id: { type: "string" },
  name: { type: "string" },
  namespace: { type: "string" },
  state: { type: "string", short: "s" },
  label: { type: "string", multiple: true },
  quiet: { type: "boolean", short: "q" },
  "no-trunc": { type: "boolean" },
  latest: { type: "boolean", short: "l" },
  last: { type: "string", short: "n" },
  all: { type: "boolean", short: "a" },
  force: { type: "boolean", short: "f" },
} as const;

export interface PodArgs {
  values: {
    output?: string | undefined;
    runtime?: string | undefined;
    id?: string | undefined;
    name?: string | undefined;
    namespace?: string | undefined;
    state?: string | undefined;
    label?: string[] | undefined;
    quiet?: boolean | undefined;
    "no-trunc"?: boolean | undefined;
    latest?: boolean | undefined;
    last?: string | undefined;
    all?: boolean | undefined;
    force?: boolean | undefined;
  };
  positionals: string[];
}

/** `berth runp [--runtime H] POD.json|POD.yaml`: prints the new pod's ID. */
export async function runpCommand(c: CriClient, a: PodArgs): Promise<void> {
  const file = a.positionals[0];
  if (!file || a.positionals.length > 1) throw new UsageError("berth runp: expected one pod config file (JSON or YAML)");
  let doc: unknown;
  try {
    doc = parseYaml(await readFile(file, "utf8"));
  } catch (err) {
    throw new UsageError(`berth runp: cannot read ${file}: ${(err as Error).message}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new UsageError(`berth runp: ${file} must hold one pod config object`);
  const req = RunPodSandboxRequest.fromPartial({ config: PodSandboxConfig.fromJSON(doc), runtimeHandler: a.values.runtime ?? "" });
  // Creating a pod with CNI can take longer than an ordinary call.
  const r = await call(c, c.runtime, c.runtime.runPodSandbox, req, Math.max(c.timeoutMs, 120_000));
  process.stdout.write(`${r.podSandboxId}\n`);
}

const STATES: Record<string, PodSandboxState> = {
  ready: PodSandboxState.SANDBOX_READY,
  sandbox_ready: PodSandboxState.SANDBOX_READY,
  notready: PodSandboxState.SANDBOX_NOTREADY,
  sandbox_notready: PodSandboxState.SANDBOX_NOTREADY,
};

function labels(list: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list ?? []) {
    const i = l.indexOf("=");
    if (i <= 0) throw new UsageError(`--label "${l}": expected key=value`);
    out[l.slice(0, i)] = l.slice(i + 1);
  }
  return out;
}

function regex(v: string | undefined, flag: string): RegExp | undefined {
  if (v === undefined) return undefined;
  try {
    return new RegExp(v);
  } catch {
    throw new UsageError(`--${flag} "${v}": not a regular expression`);
  }
}

export function ago(ns: bigint, now = Date.now()): string {
  const s = Math.max(0, Math.floor((now - Number(ns / 1_000_000n)) / 1000));
  const unit = (n: number, u: string) => `${n} ${u}${n === 1 ? "" : "s"} ago`;
  if (s < 60) return s < 1 ? "Less than a second ago" : unit(s, "second");
  if (s < 3600) return unit(Math.floor(s / 60), "minute");
  if (s < 86400) return unit(Math.floor(s / 3600), "hour");
  return unit(Math.floor(s / 86400), "day");
}

/** `berth pods`: crictl's filters (--id, --name and --namespace as regexps, --state, --label) and output forms. */
export async function podsCommand(c: CriClient, a: PodArgs): Promise<void> {
  const v = a.values;
  const format = parseFormat(v.output);
  let state: PodSandboxState | undefined;
  if (v.state !== undefined) {
    state = STATES[v.state.toLowerCase()];
    if (state === undefined) throw new UsageError(`--state "${v.state}": expected ready or notready`);
  }
  const req = ListPodSandboxRequest.fromPartial({
    filter: { id: v.id ?? "", labelSelector: labels(v.label), ...(state !== undefined ? { state: { state } } : {}) },
  });
  const name = regex(v.name, "name");
  const namespace = regex(v.namespace, "namespace");
  let items = (await call(c, c.runtime, c.runtime.listPodSandbox, req)).items
    .filter((p) => (!name || name.test(p.metadata?.name ?? "")) && (!namespace || namespace.test(p.metadata?.namespace ?? "")))
    .sort((x, y) => (x.createdAt > y.createdAt ? -1 : x.createdAt < y.createdAt ? 1 : 0));
  const last = v.latest ? 1 : v.last !== undefined ? Number(v.last) : undefined;
  if (last !== undefined) {
    if (!Number.isInteger(last) || last < 0) throw new UsageError(`--last "${v.last}": expected a count`);
    items = items.slice(0, last);
  }
  if (v.quiet) {
    process.stdout.write(items.map((p) => `${p.id}\n`).join(""));
    return;
  }
  if (format !== "table") return printStructured({ items: items.map((p) => withState(PodSandbox.toJSON(p), p.state)) }, format);
  const id = (s: string) => (v["no-trunc"] ? s : s.slice(0, 13));
  printTable(
    ["POD ID", "CREATED", "STATE", "NAME", "NAMESPACE", "ATTEMPT", "RUNTIME"],
    items.map((p) => [
      id(p.id),
      ago(p.createdAt),
      p.state === PodSandboxState.SANDBOX_READY ? "Ready" : "NotReady",
      p.metadata?.name ?? "",
      p.metadata?.namespace ?? "",
      String(p.metadata?.attempt ?? 0),
      p.runtimeHandler || "(default)",
    ]),
  );
}

/** proto3 JSON leaves out zero values, and SANDBOX_READY is zero; crictl prints it, so do we. */
function withState(json: unknown, state: PodSandboxState): unknown {
  return { ...(json as object), state: podSandboxStateToJSON(state) };
}

function ids(a: PodArgs, cmd: string): string[] {
  if (a.positionals.length === 0) throw new UsageError(`berth ${cmd}: expected one or more pod sandbox IDs`);
  return a.positionals;
}

/** `berth inspectp ID...`: status plus the decoded verbose info, one JSON (or YAML) document per pod. */
export async function inspectpCommand(c: CriClient, a: PodArgs): Promise<void> {
  const format = parseFormat(a.values.output ?? "json", ["json", "yaml", "table"]);
  for (const id of ids(a, "inspectp")) {
    const r = await call(c, c.runtime, c.runtime.podSandboxStatus, { podSandboxId: id, verbose: true });
    const info = decodeInfo(r.info);
    const doc = { status: r.status ? withState(PodSandboxStatus.toJSON(r.status), r.status.state) : null, ...info };
    printStructured(doc, format === "yaml" ? "yaml" : "json");
  }
}

export async function stoppCommand(c: CriClient, a: PodArgs): Promise<void> {
  for (const id of ids(a, "stopp")) {
    await call(c, c.runtime, c.runtime.stopPodSandbox, { podSandboxId: id }, Math.max(c.timeoutMs, 120_000));
    process.stdout.write(`Stopped sandbox ${id}\n`);
  }
}

/** `berth rmp ID... | -a`: a ready pod needs -f (it is stopped first), as in crictl. */
export function rmpCommand(c: CriClient, a: PodArgs): Promise<void> {
  return removeMany({
    cmd: "rmp",
    what: "pod sandbox",
    ids: a.positionals,
    all: !!a.values.all,
    force: !!a.values.force,
    listAll: async () => (await call(c, c.runtime, c.runtime.listPodSandbox, ListPodSandboxRequest.fromPartial({}))).items.map((p) => p.id),
    running: async (id) => (await call(c, c.runtime, c.runtime.podSandboxStatus, { podSandboxId: id, verbose: false })).status?.state === PodSandboxState.SANDBOX_READY,
    stopHint: "berth stopp",
    remove: async (id) => void (await call(c, c.runtime, c.runtime.removePodSandbox, { podSandboxId: id }, Math.max(c.timeoutMs, 120_000))),
    removed: (id) => `Removed sandbox ${id}`,
  });
}
