// A pod's network counters from /proc/<pid>/net/dev of a process inside its network namespace
// (the file shows the reader's namespace of that process, so no setns is needed).
import { readFileSync } from "node:fs";

export interface InterfaceCounters {
  name: string;
  rxBytes: bigint;
  rxErrors: bigint;
  txBytes: bigint;
  txErrors: bigint;
}

/** Parses /proc/net/dev; the loopback interface is left out, as kubelet does. */
export function parseNetDev(text: string): InterfaceCounters[] {
  const out: InterfaceCounters[] = [];
  for (const line of text.split("\n").slice(2)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (name === "lo") continue;
    const f = line.slice(colon + 1).trim().split(/\s+/);
    if (f.length < 16) continue;
    const n = (i: number) => BigInt(/^\d+$/.test(f[i] ?? "") ? f[i]! : "0");
    out.push({ name, rxBytes: n(0), rxErrors: n(2), txBytes: n(8), txErrors: n(10) });
  }
  return out;
}

/** Synchronous, like the cgroup reads (a small in-memory file; see cgroup-read.ts). */
export function readNetDev(pid: number): InterfaceCounters[] | undefined {
  try {
    return parseNetDev(readFileSync(`/proc/${pid}/net/dev`, "utf8"));
  } catch {
    return undefined;
  }
}
