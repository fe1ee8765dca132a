// containerd's CRI plugin as a comparison target for the benchmarks: started (only when a
// `containerd` binary is installed; nothing is installed here) on temp dirs and a temp socket,
// pulling through hosts.toml from the loopback registry, and stopped by PID afterwards.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { call, connectCri, type CriClient } from "../src/cli/client.js";
import { mountTool } from "../src/oci/mount.js";
import { which } from "../src/util/which.js";

export interface Containerd {
  client: CriClient;
  dir: string;
  /** CNI config dir it reads (the caller writes the conflist there). */
  confDir: string;
  pid: number;
  stop(): Promise<void>;
}

export interface ContainerdOptions {
  /** hosts.toml tree for the loopback registry (containerd's `config_path`). */
  certsD: string;
  /** The pod sandbox ("pause") image: it must be pullable from the loopback registry. */
  sandboxImage: string;
}

export function containerdBinary(): string | undefined {
  return which("containerd", `${process.env["PATH"] ?? ""}:/usr/bin:/usr/local/bin:/usr/sbin`);
}

/** Mount points at or below dir, deepest first. */
async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile("/proc/self/mountinfo", "utf8");
  return info.split("\n").map((l) => l.split(" ")[4] ?? "").filter((m) => m === dir || m.startsWith(`${dir}/`)).sort((a, b) => b.length - a.length);
}

/** containerd-shim processes serving this containerd (their `-address` is its socket). */
async function shimsOf(socket: string): Promise<number[]> {
  const out: number[] = [];
  for (const p of await readdir("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    const cmd = await readFile(`/proc/${p}/cmdline`, "utf8").catch(() => "");
    if (cmd.includes("containerd-shim") && cmd.split("\0").includes(socket)) out.push(Number(p));
  }
  return out;
}

export async function startContainerd(bin: string, o: ContainerdOptions): Promise<Containerd> {
  const dir = await mkdtemp(join(tmpdir(), "berth-bench-containerd-"));
  const socket = join(dir, "containerd.sock");
  const confDir = join(dir, "net.d");
  await mkdir(confDir, { recursive: true });
  const config = join(dir, "config.toml");
  await writeFile(config, [
    "version = 2",
    `root = "${join(dir, "root")}"`,
    `state = "${join(dir, "state")}"`,
    `[grpc]`,
    `  address = "${socket}"`,
    `[plugins."io.containerd.internal.v1.opt"]`,
    `  path = "${join(dir, "opt")}"`,
    `[plugins."io.containerd.grpc.v1.cri"]`,
    `  sandbox_image = "${o.sandboxImage}"`,
    `  stream_server_address = "127.0.0.1"`,
    `  stream_server_port = "0"`,
    `  enable_selinux = false`,
    // The pause container's oom_score_adj of -998 needs CAP_SYS_RESOURCE, which this (containerised) host withholds.
    `  restrict_oom_score_adj = true`,
    `[plugins."io.containerd.grpc.v1.cri".containerd]`,
    `  snapshotter = "overlayfs"`,
    `  default_runtime_name = "runc"`,
    `[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]`,
    `  runtime_type = "io.containerd.runc.v2"`,
    `[plugins."io.containerd.grpc.v1.cri".cni]`,
    `  bin_dir = "/usr/lib/cni"`,
    `  conf_dir = "${confDir}"`,
    `[plugins."io.containerd.grpc.v1.cri".registry]`,
    `  config_path = "${o.certsD}"`,
    "",
  ].join("\n"));
  // BENCH_CONTAINERD_LOG=debug shows its log on stderr.
  const level = process.env["BENCH_CONTAINERD_LOG"];
  const proc: ChildProcess = spawn(bin, ["--config", config, "--log-level", level ?? "warn"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr!.setEncoding("utf8").on("data", (d: string) => {
    if (level) process.stderr.write(d);
    if (stderr.length < 64 * 1024) stderr += d;
  });
  const exited = once(proc, "exit");
  let client: CriClient | undefined;
  const stop = async (): Promise<void> => {
    client?.close();
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
    // Shims of pods the caller did not remove (a failed run) would outlive it.
    for (const pid of await shimsOf(socket)) process.kill(pid, "SIGKILL");
    for (const m of await mountsUnder(dir)) await mountTool("umount", ["-l", m], { timeoutMs: 10_000 }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 20_000;
    while (!existsSync(socket)) {
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`containerd did not serve ${socket}:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    client = connectCri(socket, 60_000);
    for (;;) {
      try {
        await call(client, client.runtime, client.runtime.version, { version: "" }, 2000);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`containerd's CRI plugin does not answer: ${(err as Error).message}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    return { client, dir, confDir, pid: proc.pid!, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
