// What the /metrics end-to-end tests share: find the address a daemon's metrics server bound
// (port 0 in tests), scrape and strictly parse it, and list the TCP ports a process listens on.
import { readdir, readFile, readlink } from "node:fs/promises";
import type { Daemon } from "../fixtures/daemon.js";
import { parseExposition, type Family } from "../fixtures/prom-text.js";

export const METRICS_ON = { BERTH_METRICS_ADDRESS: "127.0.0.1:0" };

/** The host:port from the daemon's "metrics listening" log line. */
export async function metricsAddress(d: Daemon, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = /"address":"([^"]+)","msg":"metrics listening"/.exec(d.logs());
    if (m) return m[1]!;
    if (Date.now() > deadline) throw new Error(`no "metrics listening" line in the daemon log:\n${d.logs()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function scrape(address: string): Promise<{ families: Map<string, Family>; text: string; type: string }> {
  const res = await fetch(`http://${address}/metrics`);
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status}`);
  const text = await res.text();
  return { families: parseExposition(text), text, type: res.headers.get("content-type") ?? "" };
}

/** TCP ports the process listens on (its sockets matched against its netns's tcp tables). */
export async function listeningPorts(pid: number): Promise<number[]> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m) inodes.add(m[1]!);
  }
  const ports: number[] = [];
  for (const table of ["tcp", "tcp6"]) {
    const text = await readFile(`/proc/${pid}/net/${table}`, "utf8");
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== "0A" || !inodes.has(f[9]!)) continue;
      ports.push(parseInt(f[1]!.split(":")[1]!, 16));
    }
  }
  return ports;
}
