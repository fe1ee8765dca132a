// Streaming benchmarks against a real daemon (busybox from a local registry, one pod): Exec
// round trip of `true` from the Exec RPC to the exit status next to ExecSync in the same run,
// 10 MB through cat, and the memory an idle exec session costs (daemon share + its conmon).
import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough, Readable, Writable } from "node:stream";
import { pathToFileURL } from "node:url";
import { call } from "../src/cli/client.js";
import { ContainerConfig, CreateContainerRequest, ExecRequest } from "../src/generated/runtime/v1/api.js";
import { runRemoteCommand } from "../src/streaming/remotecommand/client.js";
import type { Daemon } from "../test/fixtures/daemon.js";
import { podRequest } from "../test/e2e/pods-kit.js";
import { rssMiB, summary } from "./stats.js";
import { openBenchHost } from "./kit.js";
import type { Emit } from "./emit.js";

const ROUNDS = 40;
const IDLE_SESSIONS = 20;

class Count extends Writable {
  n = 0;
  override _write(c: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.n += c.length;
    cb();
  }
}

async function execRequest(d: Daemon, containerId: string, cmd: string[], stdin = false): Promise<string> {
  const c = d.client;
  return (await call(c, c.runtime, c.runtime.exec, ExecRequest.fromPartial({ containerId, cmd, stdin, stdout: true, stderr: true }))).url;
}

async function kib(pid: number, file: string, field: string): Promise<number> {
  const text = await readFile(`/proc/${pid}/${file}`, "utf8").catch(() => "");
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1] ?? NaN);
}

export async function streamingBench(emit: Emit): Promise<void> {
  const host = await openBenchHost("s", {
    subnet: "10.246.0.0/16",
    // debug: the per-step exec timings come from the daemon's log.
    daemon: { args: ["--log-level", process.env["BENCH_LOG_LEVEL"] ?? "debug"] },
  });
  const { d, image } = host;
  const c = d.client;
  let pod = "";
  try {
    const spec = { image, annotations: {}, userSpecifiedImage: "", runtimeHandler: "", imageRef: "" };
    await call(c, c.image, c.image.pullImage, { image: spec, auth: undefined, sandboxConfig: undefined }, 60_000);
    const podReq = podRequest({ name: "stream-bench" });
    pod = (await call(c, c.runtime, c.runtime.runPodSandbox, podReq, 60_000)).podSandboxId;
    const config = ContainerConfig.fromPartial({ metadata: { name: "app", attempt: 0 }, image: { image }, command: ["sleep", "100000"] });
    const ctr = (await call(c, c.runtime, c.runtime.createContainer, CreateContainerRequest.fromPartial({ podSandboxId: pod, config, sandboxConfig: podReq.config }), 60_000)).containerId;
    await call(c, c.runtime, c.runtime.startContainer, { containerId: ctr }, 60_000);

    const execOnce = async (): Promise<number> => {
      const t0 = performance.now();
      const r = await runRemoteCommand(await execRequest(d, ctr, ["true"]), { stdout: new Count(), stderr: new Count() });
      if (!("exitCode" in r) || r.exitCode !== 0) throw new Error(`exec true: ${JSON.stringify(r)}`);
      return performance.now() - t0;
    };
    const syncOnce = async (): Promise<number> => {
      const t0 = performance.now();
      await call(c, c.runtime, c.runtime.execSync, { containerId: ctr, cmd: ["true"], timeout: 10n });
      return performance.now() - t0;
    };
    for (let i = 0; i < 3; i++) await Promise.all([execOnce(), syncOnce()]);
    // Interleaved, so both see the same machine.
    const streamed: number[] = [];
    const synced: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      streamed.push(await execOnce());
      synced.push(await syncOnce());
    }
    const s = summary(streamed);
    const y = summary(synced);
    emit("streaming_exec_true_rpc_to_exit_p50", s.p50, "ms");
    emit("streaming_exec_true_rpc_to_exit_p90", s.p90, "ms");
    emit("streaming_exec_sync_true_p50", y.p50, "ms");
    emit("streaming_exec_sync_true_p90", y.p90, "ms");
    // Where an exec's start goes (the daemon logs it at debug): spawning conmon, its attach socket, runc exec.
    const steps: Record<string, number[]> = {};
    for (const line of d.logs().split("\n")) {
      if (!line.includes('"msg":"exec started"')) continue;
      for (const [k, v] of Object.entries((JSON.parse(line) as { ms?: Record<string, number> }).ms ?? {})) (steps[k] ??= []).push(v);
    }
    for (const [k, v] of Object.entries(steps)) emit(`streaming_exec_start_step_${k}_p50`, summary(v).p50, "ms");

    const data = randomBytes(10 * 1024 * 1024);
    const out = new Count();
    const t0 = performance.now();
    await runRemoteCommand(await execRequest(d, ctr, ["cat"], true), { stdin: Readable.from([data]), stdout: out, stderr: new Count() });
    const secs = (performance.now() - t0) / 1000;
    if (out.n !== data.length) throw new Error(`cat returned ${out.n} of ${data.length} bytes`);
    emit("streaming_exec_cat_10mb_round_trip", data.length / 1024 / 1024 / secs, "MB/s");

    // Idle sessions: `sleep` with stdin open; the daemon's growth shared out plus each exec conmon's PSS.
    await new Promise((r) => setTimeout(r, 500));
    const before = await rssMiB(d.proc.pid!);
    const aborts: Array<() => void> = [];
    const done: Promise<unknown>[] = [];
    for (let i = 0; i < IDLE_SESSIONS; i++) {
      const url = await execRequest(d, ctr, ["sleep", "3600"], true);
      await new Promise<void>((ready) => {
        done.push(runRemoteCommand(url, { stdin: new PassThrough(), stdout: new Count(), stderr: new Count(), onReady: (a) => (aborts.push(a), ready()) }));
      });
    }
    const execDir = join(d.state, "exec");
    for (let tries = 0; (await readdir(execDir)).length < IDLE_SESSIONS && tries < 200; tries++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1000));
    const after = await rssMiB(d.proc.pid!);
    let pss = 0;
    let n = 0;
    for (const e of await readdir(execDir)) {
      const pid = Number((await readFile(join(execDir, e, "conmon-pidfile"), "utf8").catch(() => "")).trim());
      if (pid > 0) {
        pss += await kib(pid, "smaps_rollup", "Pss");
        n++;
      }
    }
    emit("streaming_idle_exec_daemon_rss_per_session", (after - before) / IDLE_SESSIONS, "MiB");
    emit("streaming_idle_exec_conmon_pss_avg", pss / Math.max(n, 1) / 1024, "MiB");
    emit("streaming_idle_exec_total_per_session", (after - before) / IDLE_SESSIONS + pss / Math.max(n, 1) / 1024, "MiB");
    for (const a of aborts) a();
    await Promise.allSettled(done);
    for (let tries = 0; (await readdir(execDir)).length > 0 && tries < 200; tries++) await new Promise((r) => setTimeout(r, 50));
  } finally {
    if (pod) {
      await call(c, c.runtime, c.runtime.stopPodSandbox, { podSandboxId: pod }, 60_000).catch(() => undefined);
      await call(c, c.runtime, c.runtime.removePodSandbox, { podSandboxId: pod }, 60_000).catch(() => undefined);
    }
    await host.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const emit: Emit = (name, value, unit) => process.stdout.write(`${name}: ${Number.isInteger(value) ? value : value.toFixed(2)} ${unit}\n`);
  await streamingBench(emit);
}
