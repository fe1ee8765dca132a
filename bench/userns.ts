// Run-to-started of a hostUsers: false pod (its user namespace, idmapped layers and bind sources)
// beside a plain pod, alternating in one run against one daemon, so the userns cost reads directly.
import { execFile } from "node:child_process";
import { chmod, mkdtemp, readdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { call } from "../src/cli/client.js";
import { ContainerConfig, LinuxPodSandboxConfig, NamespaceMode } from "../src/generated/runtime/v1/api.js";
import { startDaemon, type Daemon } from "../test/fixtures/daemon.js";
import { pushBusybox } from "../test/fixtures/images.js";
import { startRegistry, writeHostsToml } from "../test/fixtures/registry.js";
import { podRequest } from "../test/e2e/pods-kit.js";
import type { Emit } from "./emit.js";
import { removePod, startPodWithContainer, writeBridgeNetwork } from "./kit.js";
import { summary } from "./stats.js";

const run = promisify(execFile);
const ROUNDS = 15;
const IP_FORWARD = "/proc/sys/net/ipv4/ip_forward";

async function runToStarted(d: Daemon, image: string, name: string, userns: number | undefined): Promise<{ pod: string; ms: number }> {
  const map = userns === undefined ? undefined : { hostId: userns, containerId: 0, length: 65536 };
  const podReq = podRequest({
    name,
    config: {
      logDirectory: join(d.dir, "logs", name),
      linux: LinuxPodSandboxConfig.fromPartial({
        securityContext: { namespaceOptions: { network: NamespaceMode.POD, ipc: NamespaceMode.POD, pid: NamespaceMode.CONTAINER, ...(map ? { usernsOptions: { mode: NamespaceMode.POD, uids: [map], gids: [map] } } : {}) } },
      }),
    },
  });
  const config = ContainerConfig.fromPartial({ metadata: { name: "app", attempt: 0 }, image: { image }, command: ["sleep", "100000"], logPath: "app/0.log" });
  return startPodWithContainer(d, podReq, config);
}

export async function usernsBench(emit: Emit): Promise<void> {
  const id = Math.random().toString(16).slice(2, 8);
  const bridge = `bu${id}`;
  const cgroupParent = `/berth-bench-${id}`;
  const ipForward = (await readFile(IP_FORWARD, "utf8")).trim();
  const reg = await startRegistry();
  const certsD = await mkdtemp(join(tmpdir(), "berth-bench-certsd-"));
  await writeHostsToml(certsD, reg);
  const image = (await pushBusybox(reg)).reference;
  const d = await startDaemon({ toml: `[pods]\ncgroup_parent = "${cgroupParent}"\n[registry]\nconfig_path = "${certsD}"\nregistries_conf = "${join(certsD, "registries.conf")}"\n` });
  // The mapped root must search the dirs above the state dir, as it can /var/lib.
  await chmod(d.dir, 0o711);
  const c = d.client;
  try {
    await writeBridgeNetwork(d, { name: `berth-bench-${id}`, bridge: bridge, subnet: "10.246.0.0/16" });
    await call(c, c.image, c.image.pullImage, { image: { image, annotations: {}, userSpecifiedImage: "", runtimeHandler: "", imageRef: "" }, auth: undefined, sandboxConfig: undefined }, 60_000);
    for (let i = 0; i < 2; i++) {
      await removePod(d, (await runToStarted(d, image, `warm-plain-${i}`, undefined)).pod);
      await removePod(d, (await runToStarted(d, image, `warm-userns-${i}`, 65536 * (30_000 + i))).pod);
    }
    const plain: number[] = [];
    const userns: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const p = await runToStarted(d, image, `plain-${i}`, undefined);
      plain.push(p.ms);
      const u = await runToStarted(d, image, `userns-${i}`, 65536 * (31_000 + i));
      userns.push(u.ms);
      await removePod(d, p.pod);
      await removePod(d, u.pod);
    }
    emit("userns_run_to_started_plain_p50", summary(plain).p50, "ms");
    emit("userns_run_to_started_userns_p50", summary(userns).p50, "ms");
    emit("userns_run_to_started_plain_p90", summary(plain).p90, "ms");
    emit("userns_run_to_started_userns_p90", summary(userns).p90, "ms");
  } finally {
    await d.stop();
    await reg.stop();
    await rm(certsD, { recursive: true, force: true });
    await run("ip", ["link", "del", bridge]).catch(() => undefined);
    for (const h of await readdir("/sys/fs/cgroup")) await rmdir(join("/sys/fs/cgroup", h, cgroupParent)).catch(() => undefined);
    await writeFile(IP_FORWARD, ipForward);
    await rm(d.dir, { recursive: true, force: true });
  }
}
