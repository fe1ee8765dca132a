// Run-to-started of a hostUsers: false pod (its user namespace, idmapped layers and bind sources)
// beside a plain pod, alternating in one run against one daemon, so the userns cost reads directly.
import { chmod, rm } from "node:fs/promises";
import { join } from "node:path";
import { call } from "../src/cli/client.js";
import { ContainerConfig, LinuxPodSandboxConfig, NamespaceMode } from "../src/generated/runtime/v1/api.js";
import type { Daemon } from "../test/fixtures/daemon.js";
import { podRequest } from "../test/e2e/pods-kit.js";
import type { Emit } from "./emit.js";
import { openBenchHost, removePod, startPodWithContainer } from "./kit.js";
import { summary } from "./stats.js";

const ROUNDS = 15;

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
  const host = await openBenchHost("u", { subnet: "10.246.0.0/16" });
  const { d, image } = host;
  // The mapped root must search the dirs above the state dir, as it can /var/lib.
  await chmod(d.dir, 0o711);
  const c = d.client;
  try {
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
    await host.close();
    await rm(d.dir, { recursive: true, force: true });
  }
}
