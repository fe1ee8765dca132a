// Daemon benchmarks: start-to-ready time, idle RSS, and the latency of a trivial RPC (Version)
// over one persistent connection, so the client's start-up does not hide the daemon's cost.
import { startDaemon } from "../test/fixtures/daemon.js";
import { call } from "../src/cli/client.js";
import { rssMiB, summary } from "./stats.js";
import type { Emit } from "./emit.js";

export async function daemonBench(emit: Emit): Promise<void> {
  const starts: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const d = await startDaemon({ servingOnly: true });
    starts.push(performance.now() - t0);
    await d.stop();
  }
  emit("daemon_start_to_ready_p50", summary(starts).p50, "ms");

  const d = await startDaemon();
  try {
    const c = d.client;
    await new Promise((r) => setTimeout(r, 1000));
    emit("daemon_idle_rss_fresh", await rssMiB(d.proc.pid!), "MiB");
    for (let i = 0; i < 200; i++) await call(c, c.runtime, c.runtime.version, { version: "" });
    const lat: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const t0 = performance.now();
      await call(c, c.runtime, c.runtime.version, { version: "" });
      lat.push(performance.now() - t0);
    }
    const s = summary(lat);
    emit("version_rpc_p50", s.p50, "ms");
    emit("version_rpc_p99", s.p99, "ms");
    await new Promise((r) => setTimeout(r, 2000));
    emit("daemon_idle_rss_after_2000_calls", await rssMiB(d.proc.pid!), "MiB");
  } finally {
    await d.stop();
  }
}
