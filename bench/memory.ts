// Daemon memory: idle RSS fresh and after 1500 calls, split by mapping (node binary, anon, malloc
// heap), with List p50/p99, so a start-up or V8 flag change shows what it costs or saves.
import { readFile } from "node:fs/promises";
import { startDaemon } from "../test/fixtures/daemon.js";
import { call } from "../src/cli/client.js";
import { rssMiB, summary } from "./stats.js";
import type { Emit } from "./emit.js";

/** Resident MiB per mapping kind from /proc/PID/smaps: the node binary's pages, anonymous, [heap]. */
async function rssByMapping(pid: number): Promise<{ binary: number; anon: number; heap: number; other: number }> {
  const out = { binary: 0, anon: 0, heap: 0, other: 0 };
  let kind: keyof typeof out = "other";
  for (const line of (await readFile(`/proc/${pid}/smaps`, "utf8")).split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const name = head[1] ?? "";
      kind = name === "" ? "anon" : name === "[heap]" ? "heap" : /\/node$/.test(name) ? "binary" : "other";
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out[kind] += Number(rss[1]) / 1024;
  }
  return out;
}

export async function memoryBench(emit: Emit): Promise<void> {
  const d = await startDaemon({ args: ["--log-level", "info"] });
  try {
    const pid = d.proc.pid!;
    await new Promise((r) => setTimeout(r, 1500));
    emit("memory_idle_rss_fresh", await rssMiB(pid), "MiB");
    for (const [k, v] of Object.entries(await rssByMapping(pid))) emit(`memory_fresh_${k}`, v, "MiB");
    const c = d.client;
    const lat: number[] = [];
    for (let i = 0; i < 500; i++) {
      await call(c, c.runtime, c.runtime.version, { version: "" });
      await call(c, c.runtime, c.runtime.listPodSandbox, { filter: undefined });
      const t0 = performance.now();
      await call(c, c.runtime, c.runtime.listContainers, { filter: undefined });
      lat.push(performance.now() - t0);
    }
    const s = summary(lat);
    emit("memory_list_containers_p50", s.p50, "ms");
    emit("memory_list_containers_p99", s.p99, "ms");
    await new Promise((r) => setTimeout(r, 2000));
    emit("memory_idle_rss_after_1500_calls", await rssMiB(pid), "MiB");
    for (const [k, v] of Object.entries(await rssByMapping(pid))) emit(`memory_after_${k}`, v, "MiB");
  } finally {
    await d.stop();
  }
}
