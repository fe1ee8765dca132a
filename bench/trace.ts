// Per-step trace of a pod start: where RunPodSandbox, CreateContainer and StartContainer spend
// their time, as each step's start/end offsets (medians over a few pods) from the daemon's debug lines.
import { join } from "node:path";
import { call } from "../src/cli/client.js";
import { runToStarted, stopRemovePod } from "./containers.js";
import { openBenchHost } from "./kit.js";
import { summary } from "./stats.js";
import type { Emit } from "./emit.js";

const PODS = Number(process.env["BENCH_TRACE_PODS"] ?? 10);

/** Median [start, end] of each step over the debug lines with this message. */
function stepSpans(logs: string, msg: string): Array<[string, number, number]> {
  const starts: Record<string, number[]> = {};
  const ends: Record<string, number[]> = {};
  for (const line of logs.split("\n")) {
    if (!line.includes(`"msg":"${msg}"`)) continue;
    const at = (JSON.parse(line) as { at?: Record<string, [number, number]> }).at ?? {};
    for (const [k, [s, e]] of Object.entries(at)) {
      (starts[k] ??= []).push(s);
      (ends[k] ??= []).push(e);
    }
  }
  return Object.keys(starts).map((k): [string, number, number] => [k, summary(starts[k]!).p50, summary(ends[k]!).p50]).sort((a, b) => a[1] - b[1] || a[2] - b[2]);
}

/** Durations the daemon logs per call at debug ("call", rpc, ms). */
function callTimes(logs: string, rpc: string): number[] {
  const out: number[] = [];
  for (const line of logs.split("\n")) if (line.includes(`"rpc":"${rpc}"`) && line.includes(`"msg":"call"`)) out.push((JSON.parse(line) as { ms: number }).ms);
  return out;
}

export async function traceBench(emit: Emit): Promise<void> {
  const host = await openBenchHost("t", { subnet: "10.244.0.0/16", portmap: true });
  const { d, image } = host;
  const c = d.client;
  const logRoot = join(d.dir, "logs");
  try {
    await call(c, c.image, c.image.pullImage, { image: { image, annotations: {}, userSpecifiedImage: "", runtimeHandler: "", imageRef: "" }, auth: undefined, sandboxConfig: undefined }, 60_000);
    for (let i = 0; i < 3; i++) await stopRemovePod(d, (await runToStarted(d, image, logRoot, `warm-${i}`)).pod);
    const mark = d.logs().length;
    for (let i = 0; i < PODS; i++) await stopRemovePod(d, (await runToStarted(d, image, logRoot, `trace-${i}`)).pod);
    const logs = d.logs().slice(mark);
    for (const [rpc, msg, name] of [["runpodsandbox", "pod sandbox ready", "RunPodSandbox"], ["createcontainer", "container created", "CreateContainer"], ["startcontainer", "container started", "StartContainer"]] as const) {
      // The whole call inside the daemon (decoded request to encoded answer): what the steps leave out is before the first one.
      emit(`trace_${rpc}_in_daemon_p50`, summary(callTimes(logs, name)).p50, "ms");
      // A readable timeline first (`#` lines), then the figures.
      const spans = stepSpans(logs, msg);
      const width = Math.max(1, ...spans.map((s) => s[2]));
      for (const [k, s, e] of spans) {
        const bar = `${" ".repeat(Math.round((s / width) * 40))}${"#".repeat(Math.max(1, Math.round(((e - s) / width) * 40)))}`;
        process.stdout.write(`# ${rpc.padEnd(15)} ${k.padEnd(16)} ${s.toFixed(1).padStart(6)} -> ${e.toFixed(1).padStart(6)} ms |${bar}\n`);
      }
      for (const [k, s, e] of spans) {
        emit(`trace_${rpc}_${k}_start_p50`, s, "ms");
        emit(`trace_${rpc}_${k}_end_p50`, e, "ms");
      }
    }
  } finally {
    await host.close();
  }
}
