// Recovery benchmark: time from a daemon start to serving (and to the first full ListContainers)
// with N running containers left by a SIGKILLed daemon. BENCH_RECOVERY_RUNNING sets N (default 100).
import { execFile } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { call } from "../src/cli/client.js";
import { ListContainersRequest } from "../src/generated/runtime/v1/api.js";
import { startDaemon, type Daemon } from "../test/fixtures/daemon.js";
import { pushBusybox } from "../test/fixtures/images.js";
import { startRegistry, writeHostsToml } from "../test/fixtures/registry.js";
import { runToStarted, stopRemovePod } from "./containers.js";
import { rssMiB, summary } from "./stats.js";
import type { Emit } from "./emit.js";

const run = promisify(execFile);
const IP_FORWARD = "/proc/sys/net/ipv4/ip_forward";
const RUNNING = Number(process.env["BENCH_RECOVERY_RUNNING"] ?? 100);
const ROUNDS = 3;

async function sigkill(d: Daemon): Promise<void> {
  d.client.close();
  if (d.proc.exitCode === null && d.proc.signalCode === null) {
    d.proc.kill("SIGKILL");
    await once(d.proc, "exit");
  }
}

export async function recoveryBench(emit: Emit): Promise<void> {
  const id = Math.random().toString(16).slice(2, 8);
  const cgroupParent = `/berth-bench-${id}`;
  const ipForward = (await readFile(IP_FORWARD, "utf8")).trim();
  const reg = await startRegistry();
  const certsD = await mkdtemp(join(tmpdir(), "berth-bench-certsd-"));
  await writeHostsToml(certsD, reg);
  const image = (await pushBusybox(reg)).reference;
  const toml = `[pods]\ncgroup_parent = "${cgroupParent}"\n[registry]\nconfig_path = "${certsD}"\nregistries_conf = "${join(certsD, "registries.conf")}"\n`;
  const first = await startDaemon({ toml, args: ["--log-level", "info"] });
  const daemons: Daemon[] = [first];
  let d = first;
  const confDir = join(first.dir, "net.d");
  const pods: string[] = [];
  try {
    await mkdir(confDir, { recursive: true });
    await writeFile(join(confDir, "10-bench.conflist"), JSON.stringify({
      cniVersion: "1.0.0",
      name: `berth-bench-${id}`,
      plugins: [{ type: "bridge", bridge: `br${id}`, isGateway: true, ipMasq: false, hairpinMode: false, ipam: { type: "host-local", ranges: [[{ subnet: "10.246.0.0/16" }]], dataDir: join(first.dir, "ipam") } }],
    }));
    const c = d.client;
    const spec = { image, annotations: {}, userSpecifiedImage: "", runtimeHandler: "", imageRef: "" };
    await call(c, c.image, c.image.pullImage, { image: spec, auth: undefined, sandboxConfig: undefined }, 60_000);
    for (let i = 0; i < RUNNING; i++) pods.push((await runToStarted(d, image, join(first.dir, "logs"), `rec-${i}`)).pod);
    const serving: number[] = [];
    const listed: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      await sigkill(d);
      const t0 = performance.now();
      d = await startDaemon({ toml, args: ["--root", first.root, "--state", first.state, "--log-level", "info"], env: { BERTH_NETWORK_CONF_DIR: confDir } });
      serving.push(performance.now() - t0);
      daemons.push(d);
      const n = (await call(d.client, d.client.runtime, d.client.runtime.listContainers, ListContainersRequest.fromPartial({}))).containers.length;
      listed.push(performance.now() - t0);
      if (n !== RUNNING) throw new Error(`after restart ${round}: ${n} containers listed, ${RUNNING} expected`);
    }
    emit(`recovery_start_to_serving_${RUNNING}_running_p50`, summary(serving).p50, "ms");
    emit(`recovery_start_to_first_list_${RUNNING}_running_p50`, summary(listed).p50, "ms");
    emit(`recovery_daemon_rss_${RUNNING}_running`, await rssMiB(d.proc.pid!), "MiB");
  } finally {
    for (const p of pods) await stopRemovePod(d, p).catch(() => undefined);
    for (const x of daemons.reverse()) await x.stop();
    await run("ip", ["link", "del", `br${id}`]).catch(() => undefined);
    for (const h of await readdir("/sys/fs/cgroup")) await rmdir(join("/sys/fs/cgroup", h, cgroupParent)).catch(() => undefined);
    await writeFile(IP_FORWARD, ipForward);
    await reg.stop();
    await rm(certsD, { recursive: true, force: true });
  }
}
