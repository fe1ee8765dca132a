// The CRI front door under hostile HTTP/2 bytes: Version latency on one connection while other
// connections send table bombs, CONTINUATION floods, bad framing and random bytes.
import { startDaemon } from "../test/fixtures/daemon.js";
import { attacks } from "../test/fixtures/h2-attacks.js";
import { siege } from "../test/fixtures/h2-siege.js";
import { summary } from "./stats.js";
import type { Emit } from "./run.js";

export async function h2FrontBench(emit: Emit): Promise<void> {
  const d = await startDaemon();
  try {
    const list = attacks();
    const r = await siege(d, list, 3);
    const s = summary(r.latencies);
    emit("h2_attack_connections", list.length * 3, "connections");
    emit("h2_attack_version_calls", r.latencies.length, "calls");
    emit("h2_attack_version_failures", r.failures.length, "calls");
    emit("h2_attack_version_p50", s.p50, "ms");
    emit("h2_attack_version_p99", s.p99, "ms");
    emit("h2_attack_version_max", s.max, "ms");
  } finally {
    await d.stop();
  }
}
