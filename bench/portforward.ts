// Port-forward throughput: bytes from a server inside a pod's network namespace through the
// daemon (SPDY, the dial helper's socket) to Berth's client, next to the same server read over
// plain loopback TCP in the same run.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { call } from "../src/cli/client.js";
import { startPortForward } from "../src/cli/stream/port-forward.js";
import { startDaemon } from "../test/fixtures/daemon.js";
import { podRequest } from "../test/e2e/pods-kit.js";
import { writeBridgeNetwork } from "./kit.js";
import type { Emit } from "./emit.js";

const run = promisify(execFile);
const BYTES = 128 * 1024 * 1024;
const ROUNDS = 3;
const IP_FORWARD = "/proc/sys/net/ipv4/ip_forward";

/** A server that writes BYTES to each connection and closes it; prints its port. */
const SOURCE = `const net = require("node:net"); const chunk = Buffer.alloc(65536, 120);
net.createServer((c) => { let left = ${BYTES}; const pump = () => { while (left > 0) { const n = Math.min(left, chunk.length); left -= n; if (!c.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void c.once("drain", pump); } c.end(); }; pump(); })
  .listen(Number(process.argv[1]), "127.0.0.1", function () { process.stdout.write(this.address().port + "\\n"); });`;

async function source(netns: string | undefined, port: number): Promise<{ proc: ChildProcess; port: number }> {
  const args = ["-e", SOURCE, String(port)];
  const proc = netns ? spawn("nsenter", [`--net=${netns}`, "--", process.execPath, ...args], { stdio: ["ignore", "pipe", "inherit"] }) : spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  const [line] = (await once(proc.stdout!, "data")) as [Buffer];
  return { proc, port: Number(String(line).trim()) };
}

/** Reads one connection to its end; MB/s. */
async function drain(port: number): Promise<number> {
  const t0 = performance.now();
  const s = connect({ host: "127.0.0.1", port });
  let n = 0;
  s.on("data", (b: Buffer) => (n += b.length));
  await once(s, "close");
  if (n !== BYTES) throw new Error(`read ${n} bytes, expected ${BYTES}`);
  return BYTES / 1e6 / ((performance.now() - t0) / 1000);
}

async function best(fn: () => Promise<number>): Promise<number> {
  let top = 0;
  for (let i = 0; i < ROUNDS; i++) top = Math.max(top, await fn());
  return top;
}

export async function portForwardBench(emit: Emit): Promise<void> {
  const id = Math.random().toString(16).slice(2, 8);
  const bridge = `bf${id}`;
  const cgroupParent = `/berth-bench-${id}`;
  const ipForward = (await readFile(IP_FORWARD, "utf8")).trim();
  const d = await startDaemon({ toml: `[pods]\ncgroup_parent = "${cgroupParent}"\n` });
  const procs: ChildProcess[] = [];
  try {
    await writeBridgeNetwork(d, { name: `berth-bench-${id}`, bridge: bridge, subnet: "10.247.0.0/16" });
    const c = d.client;
    const podId = (await call(c, c.runtime, c.runtime.runPodSandbox, podRequest({ name: "pf-bench" }), 60_000)).podSandboxId;
    const info = JSON.parse((await call(c, c.runtime, c.runtime.podSandboxStatus, { podSandboxId: podId, verbose: true })).info["info"]!) as { netnsPath: string };

    const host = await source(undefined, 0);
    const inPod = await source(info.netnsPath, 9000);
    procs.push(host.proc, inPod.proc);
    const { url } = await call(c, c.runtime, c.runtime.portForward, { podSandboxId: podId, port: [inPod.port] });
    const pf = await startPortForward(url, [{ local: 0, remote: inPod.port }], "127.0.0.1", () => undefined);
    try {
      await drain(host.port); // warm-up, both paths
      await drain(pf.listening[0]!.local);
      emit("loopback_tcp_throughput", await best(() => drain(host.port)), "MB/s");
      emit("portforward_spdy_throughput", await best(() => drain(pf.listening[0]!.local)), "MB/s");
    } finally {
      pf.stop();
    }
    await call(c, c.runtime, c.runtime.stopPodSandbox, { podSandboxId: podId }, 60_000);
    await call(c, c.runtime, c.runtime.removePodSandbox, { podSandboxId: podId }, 60_000);
  } finally {
    for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
    await d.stop();
    await run("ip", ["link", "del", bridge]).catch(() => undefined);
    for (const h of await readdir("/sys/fs/cgroup")) await rmdir(join("/sys/fs/cgroup", h, cgroupParent)).catch(() => undefined);
    await writeFile(IP_FORWARD, ipForward);
  }
}
