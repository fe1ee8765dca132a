// `berth statsp` (pod sandbox stats, as crictl's) and `--watch` for `stats` and `statsp`: the
// command is rerun every interval, the screen redrawn, until Ctrl-C.
import { ListPodSandboxStatsRequest, type PodSandboxStats } from "../../generated/runtime/v1/api.js";
import { call, type CriClient } from "../client.js";
import { parseFormat, printStructured, printTable, UsageError } from "../output.js";
import { humanSize } from "./containers.js";

export const STATS_OPTIONS = {
  watch: { type: "boolean", short: "w" },
} as const;

export interface StatsArgs {
  values: {
    output?: string | undefined;
    id?: string | undefined;
    label?: string[] | undefined;
    "no-trunc"?: boolean | undefined;
    seconds?: string | undefined;
    watch?: boolean | undefined;
  };
  positionals: string[];
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

const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? String(x) : x)));

async function podStats(c: CriClient, a: StatsArgs): Promise<PodSandboxStats[]> {
  const filter = { id: a.values.id ?? a.positionals[0] ?? "", labelSelector: labels(a.values.label) };
  const req = ListPodSandboxStatsRequest.fromPartial({ filter });
  let stats = (await call(c, c.runtime, c.runtime.listPodSandboxStats, req)).stats;
  // The first scan of a pod has no CPU rate yet: a second one a moment later does.
  if (stats.some((s) => s.linux?.cpu && !s.linux.cpu.usageNanoCores)) {
    await new Promise((r) => setTimeout(r, 1100));
    stats = (await call(c, c.runtime, c.runtime.listPodSandboxStats, req)).stats;
  }
  return stats;
}

/** `berth statsp [--id ID | ID] [--label k=v]... [-o table|json|yaml] [-w]`: CPU, memory and network per pod. */
export async function statspCommand(c: CriClient, a: StatsArgs): Promise<void> {
  const format = parseFormat(a.values.output);
  const stats = await podStats(c, a);
  if (format !== "table") return printStructured({ stats: stats.map(plain) }, format);
  const trunc = (s: string) => (a.values["no-trunc"] ? s : s.slice(0, 13));
  printTable(
    ["POD", "POD ID", "CPU %", "MEM", "RX", "TX"],
    stats.map((s) => {
      const l = s.linux;
      const net = l?.network?.interfaces ?? [];
      const sum = (f: (i: (typeof net)[number]) => bigint | undefined) => net.reduce((n, i) => n + (f(i) ?? 0n), 0n);
      return [
        s.attributes?.metadata?.name ?? "",
        trunc(s.attributes?.id ?? ""),
        (Number(l?.cpu?.usageNanoCores?.value ?? 0n) / 1e7).toFixed(2),
        humanSize(l?.memory?.workingSetBytes?.value ?? 0n),
        humanSize(sum((i) => i.rxBytes?.value)),
        humanSize(sum((i) => i.txBytes?.value)),
      ];
    }),
  );
}

/** Wraps a stats command: with --watch it reruns every --seconds (default 1) until Ctrl-C. */
export function watching<A extends StatsArgs>(run: (c: CriClient, a: A) => Promise<void>): (c: CriClient, a: A) => Promise<void> {
  return async (c, a) => {
    if (!a.values.watch) return run(c, a);
    const seconds = Number(a.values.seconds ?? "1");
    if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--seconds "${a.values.seconds}": expected a positive number`);
    const table = (a.values.output ?? "table") === "table";
    let stopped = false;
    let wake: (() => void) | undefined;
    const stop = () => {
      stopped = true;
      wake?.();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    try {
      while (!stopped) {
        if (table && process.stdout.isTTY) process.stdout.write("\x1b[2J\x1b[H");
        await run(c, a);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, seconds * 1000);
        });
      }
    } finally {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    }
  };
}
