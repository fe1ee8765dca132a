// What the pod end-to-end tests share: a daemon with its own CNI network (unique bridge and
// subnet, IPAM in temp, ipMasq off) and cgroup parent, leak-checked and torn down after each test.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { chmod, mkdir, readdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { promisify } from "node:util";
import { call } from "../../src/cli/client.js";
import {
  ListPodSandboxRequest,
  NamespaceMode,
  type PodSandboxConfig,
  RunPodSandboxRequest,
  type PodSandboxStatusResponse,
} from "../../src/generated/runtime/v1/api.js";
import { startDaemon, type Daemon, type DaemonOptions } from "../fixtures/daemon.js";
import { forceCleanup, watchDaemon, type LeakWatch } from "../fixtures/leaks.js";

export const run = promisify(execFile);
const IP_FORWARD = "/proc/sys/net/ipv4/ip_forward";
const CGROUP_ROOT = "/sys/fs/cgroup";

const hex = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join("");

export interface PodEnv {
  d: Daemon;
  id: string;
  bridge: string;
  subnet: string;
  /** "10.249.N." — pod addresses start with it. */
  prefix: string;
  network: string;
  confDir: string;
  ipamDir: string;
  binDir: string;
  cgroupParent: string;
  leaks: LeakWatch;
  /** Writes (or rewrites) the test network's conflist, with extra plugins appended. */
  writeConf(extraPlugins?: object[]): Promise<void>;
  /** Restarts the daemon on the same root and state (the old process gets SIGTERM); ip_forward is restored after the test (Debian's bridge plugin turns it on). */
  restart(): Promise<Daemon>;
  /** Starts a process the test owns; it is killed by PID after the test. */
  spawnOwned(cmd: string, args: string[]): ChildProcess;
}

export interface PodEnvOptions {
  /** Write the network config at start (default true). */
  conf?: boolean;
  /** Extra TOML for the [pods] section. */
  podsToml?: string;
  /** Extra TOML for the [runtime] section. */
  runtimeToml?: string;
  /** pods.cgroup_parent (default /berth-e2e-<id>, removed after the test). */
  cgroupParent?: string;
  /** Extra environment for the daemon (e.g. BERTH_METRICS_ADDRESS, OTEL_*). */
  env?: NodeJS.ProcessEnv;
  /** Ready once Version answers, without waiting for Status (the runtime handlers' probe). */
  servingOnly?: boolean;
}

export async function podEnv(t: TestContext, o: PodEnvOptions = {}): Promise<PodEnv> {
  const ipForward = (await readFile(IP_FORWARD, "utf8")).trim();
  const id = hex(6);
  const third = 1 + Math.floor(Math.random() * 254);
  const cgroupParent = o.cgroupParent ?? `/berth-e2e-${id}`;
  // Test plugins live here; the daemon looks plugins up per call.
  const binDir = join(tmpdir(), `berth-e2e-bin-${id}`);
  await mkdir(binDir, { recursive: true });
  const toml = [
    // Lands in the fixture's [network] section.
    `bin_dirs = ["/usr/lib/cni", "${binDir}"]`,
    `[pods]`,
    `cgroup_parent = "${cgroupParent}"`,
    o.podsToml ?? "",
    `[runtime]`,
    o.runtimeToml ?? "",
  ].join("\n");
  const d0 = await startDaemon({ toml, ...(o.env ? { env: o.env } : {}), ...(o.servingOnly ? { servingOnly: true } : {}) });
  const owned: ChildProcess[] = [];
  const daemons: Daemon[] = [d0];
  const env: PodEnv = {
    d: d0,
    id,
    bridge: `bp${id}`,
    subnet: `10.249.${third}.0/24`,
    prefix: `10.249.${third}.`,
    network: `berth-e2e-${id}`,
    confDir: join(d0.dir, "net.d"),
    ipamDir: join(d0.dir, "ipam"),
    binDir,
    cgroupParent,
    leaks: undefined as unknown as LeakWatch,
    async writeConf(extra = []) {
      await mkdir(env.confDir, { recursive: true });
      const list = {
        cniVersion: "1.0.0",
        name: env.network,
        plugins: [
          {
            type: "bridge",
            bridge: env.bridge,
            isGateway: true,
            ipMasq: false,
            hairpinMode: false,
            ipam: { type: "host-local", ranges: [[{ subnet: env.subnet }]], dataDir: env.ipamDir },
          },
          { type: "portmap", capabilities: { portMappings: true } },
          ...extra,
        ],
      };
      await writeFile(join(env.confDir, "10-test.conflist"), JSON.stringify(list));
    },
    async restart() {
      const old = env.d;
      old.client.close();
      if (old.proc.exitCode === null && old.proc.signalCode === null) {
        old.proc.kill("SIGTERM");
        await once(old.proc, "exit");
      }
      const next = await startDaemon({ args: ["--root", d0.root, "--state", d0.state], toml, env: { ...o.env, BERTH_NETWORK_CONF_DIR: env.confDir } });
      daemons.push(next);
      env.d = next;
      env.leaks.scope.dirs.push(next.dir);
      return next;
    },
    spawnOwned(cmd, args) {
      const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
      owned.push(p);
      return p;
    },
  };
  // One hook, so the order is certain: test processes, pods (through the RPC, itself under
  // test), the leak check, then the daemons and what the test set up around them.
  t.after(async () => {
    try {
      for (const p of owned) if (p.exitCode === null && p.signalCode === null && p.pid) process.kill(p.pid, "SIGKILL");
      await Promise.all(owned.map((p) => (p.exitCode === null && p.signalCode === null ? once(p, "exit") : undefined)));
      const c = env.d.client;
      if (env.d.proc.exitCode === null) {
        const pods = await call(c, c.runtime, c.runtime.listPodSandbox, ListPodSandboxRequest.fromPartial({}));
        for (const p of pods.items) await call(c, c.runtime, c.runtime.removePodSandbox, { podSandboxId: p.id }, 60_000);
      }
      await env.leaks.assertNoLeaks();
    } finally {
      // Daemons first (SIGTERM, leaving their dirs), then anything a failed test left, then the dirs.
      for (const d of daemons) {
        d.client.close();
        if (d.proc.exitCode === null && d.proc.signalCode === null) {
          d.proc.kill("SIGTERM");
          await once(d.proc, "exit");
        }
      }
      if (env.leaks) await forceCleanup(env.leaks.scope);
      for (const d of daemons.reverse()) await d.stop();
      await run("ip", ["link", "del", env.bridge]).catch(() => undefined);
      await rm(binDir, { recursive: true, force: true });
      for (const h of await readdir(CGROUP_ROOT)) await rmdir(join(CGROUP_ROOT, h, cgroupParent)).catch(() => undefined);
      await writeFile(IP_FORWARD, ipForward);
    }
  });
  if (o.conf !== false) await env.writeConf();
  env.leaks = await watchDaemon(d0, {
    dirs: [binDir],
    allowPids: () => daemons.filter((d) => d.proc.exitCode === null && d.proc.pid).map((d) => d.proc.pid!),
    cgroupParents: [cgroupParent],
    allowInterfaces: [env.bridge],
    ipamDirs: [env.ipamDir],
    subnets: [env.subnet],
  });
  return env;
}

/** A test CNI plugin: a shell script that fails ADD with a CNI error and succeeds DEL/CHECK/VERSION. */
export async function writeFailingPlugin(binDir: string, name: string, message: string): Promise<void> {
  const script = `#!/bin/sh
cat >/dev/null
case "$CNI_COMMAND" in
  ADD) printf '{"cniVersion":"1.0.0","code":7,"msg":"%s"}' '${message}'; exit 1 ;;
  VERSION) printf '{"cniVersion":"1.0.0","supportedVersions":["0.3.1","0.4.0","1.0.0"]}' ;;
  *) exit 0 ;;
esac
`;
  const p = join(binDir, name);
  await writeFile(p, script);
  await chmod(p, 0o755);
}

export interface PodOptions {
  name?: string;
  uid?: string;
  attempt?: number;
  hostNetwork?: boolean;
  hostIpc?: boolean;
  /** Default CONTAINER, as kubelet sends without shareProcessNamespace. */
  pid?: NamespaceMode;
  config?: Partial<PodSandboxConfig>;
  sysctls?: Record<string, string>;
  runtimeHandler?: string;
}

export function podRequest(o: PodOptions = {}): RunPodSandboxRequest {
  const name = o.name ?? `pod-${hex(4)}`;
  return RunPodSandboxRequest.fromPartial({
    runtimeHandler: o.runtimeHandler ?? "",
    config: {
      metadata: { name, namespace: "e2e", uid: o.uid ?? `uid-${name}`, attempt: o.attempt ?? 0 },
      hostname: name,
      labels: { app: name },
      annotations: { "test/owner": "pods.test" },
      ...o.config,
      linux: {
        sysctls: o.sysctls ?? {},
        securityContext: {
          namespaceOptions: {
            network: o.hostNetwork ? NamespaceMode.NODE : NamespaceMode.POD,
            ipc: o.hostIpc ? NamespaceMode.NODE : NamespaceMode.POD,
            pid: o.pid ?? NamespaceMode.CONTAINER,
          },
        },
        ...o.config?.linux,
      },
    },
  });
}

export async function runPod(d: Daemon, o: PodOptions = {}): Promise<string> {
  const c = d.client;
  return (await call(c, c.runtime, c.runtime.runPodSandbox, podRequest(o), 60_000)).podSandboxId;
}

export async function podStatus(d: Daemon, id: string, verbose = true): Promise<PodSandboxStatusResponse> {
  const c = d.client;
  return call(c, c.runtime, c.runtime.podSandboxStatus, { podSandboxId: id, verbose });
}

export interface PodInfo {
  pid: number;
  netnsPath: string;
  namespaces: { net?: string; ipc?: string; uts?: string; pid?: string };
  shm: string;
  files: { resolvConf: string; hosts: string; hostname: string };
  cgroup: { driver: string; name: string; path: string };
  cniResult: { ips?: Array<{ address: string }> } | null;
}

export async function podInfo(d: Daemon, id: string): Promise<PodInfo> {
  return JSON.parse((await podStatus(d, id)).info["info"]!) as PodInfo;
}

export async function stopPod(d: Daemon, id: string): Promise<void> {
  const c = d.client;
  await call(c, c.runtime, c.runtime.stopPodSandbox, { podSandboxId: id }, 60_000);
}

export async function removePod(d: Daemon, id: string): Promise<void> {
  const c = d.client;
  await call(c, c.runtime, c.runtime.removePodSandbox, { podSandboxId: id }, 60_000);
}

export async function inNetns(netns: string, ...cmd: string[]): Promise<string> {
  return (await run("nsenter", [`--net=${netns}`, "--", ...cmd])).stdout;
}

/** Waits until `host:port` accepts inside (or outside, without netns) — for servers the test starts. */
export async function waitListening(netns: string | undefined, port: number): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const out = netns ? await inNetns(netns, "ss", "-ltnH") : (await run("ss", ["-ltnH"])).stdout;
    if (new RegExp(`:${port}\\b`).test(out)) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export type { DaemonOptions };
