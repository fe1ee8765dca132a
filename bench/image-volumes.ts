// Image volumes: run-to-started of a pod whose container mounts an image (whole and by sub path)
// beside a plain pod in the same run, rounds interleaved; first mount of the image vs one already shared.
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { call } from "../src/cli/client.js";
import { ContainerConfig, Mount } from "../src/generated/runtime/v1/api.js";
import { startDaemon, type Daemon } from "../test/fixtures/daemon.js";
import { pushBusybox, pushImage } from "../test/fixtures/images.js";
import { startRegistry, writeHostsToml } from "../test/fixtures/registry.js";
import { podRequest } from "../test/e2e/pods-kit.js";
import type { Emit } from "./emit.js";
import { removePod, startPodWithContainer, writeBridgeNetwork } from "./kit.js";
import { summary } from "./stats.js";

const run = promisify(execFile);
const ROUNDS = 20;
const IP_FORWARD = "/proc/sys/net/ipv4/ip_forward";

async function runToStarted(d: Daemon, image: string, logRoot: string, name: string, mounts: Mount[]): Promise<{ pod: string; ms: number }> {
  const podReq = podRequest({ name, config: { logDirectory: join(logRoot, name) } });
  const config = ContainerConfig.fromPartial({ metadata: { name: "app", attempt: 0 }, image: { image }, command: ["sleep", "100000"], logPath: "app/0.log", mounts });
  return startPodWithContainer(d, podReq, config);
}

/** The median of one CreateContainer step over the containers of `pods` (from the daemon's debug lines). */
function stepMedian(logs: string, step: string, pods: ReadonlySet<string>): number {
  const xs: number[] = [];
  for (const line of logs.split("\n")) {
    if (!line.includes(`"msg":"container created"`)) continue;
    if (!pods.has((JSON.parse(line) as { pod?: string }).pod ?? "")) continue;
    const v = (JSON.parse(line) as { ms?: Record<string, number> }).ms?.[step];
    if (v !== undefined) xs.push(v);
  }
  return summary(xs).p50;
}

export async function imageVolumesBench(emit: Emit): Promise<void> {
  const id = Math.random().toString(16).slice(2, 8);
  const cgroupParent = `/berth-bench-iv-${id}`;
  const ipForward = (await readFile(IP_FORWARD, "utf8")).trim();
  const reg = await startRegistry();
  const certsD = await mkdtemp(join(tmpdir(), "berth-bench-certsd-"));
  await writeHostsToml(certsD, reg);
  const image = (await pushBusybox(reg)).reference;
  const files = Array.from({ length: 200 }, (_, i) => ({ type: "file" as const, path: `data/models/f${i}.bin`, content: `model ${i}\n` }));
  const tools = (await pushImage(reg, {
    repo: "models", tag: "v1",
    layers: [{ entries: [{ type: "dir", path: "data" }, { type: "dir", path: "data/models" }, ...files] }, { entries: [{ type: "file", path: "data/VERSION", content: "2\n" }] }],
  })).reference;
  const d = await startDaemon({
    toml: `[pods]\ncgroup_parent = "${cgroupParent}"\n[registry]\nconfig_path = "${certsD}"\nregistries_conf = "${join(certsD, "registries.conf")}"\n`,
  });
  const c = d.client;
  const logRoot = join(d.dir, "logs");
  const pods: string[] = [];
  try {
    await writeBridgeNetwork(d, { name: `berth-bench-iv-${id}`, bridge: `bv${id}`, subnet: "10.246.0.0/16" });
    const pull = async (ref: string) => (await call(c, c.image, c.image.pullImage, { image: { image: ref, annotations: {}, userSpecifiedImage: "", runtimeHandler: "", imageRef: "" }, auth: undefined, sandboxConfig: undefined }, 60_000)).imageRef;
    await pull(image);
    const toolsId = await pull(tools);
    const mounts = [
      Mount.fromPartial({ containerPath: "/models", image: { image: toolsId }, readonly: true }),
      Mount.fromPartial({ containerPath: "/only", image: { image: toolsId }, imageSubPath: "data/models", readonly: true }),
    ];
    for (let i = 0; i < 3; i++) {
      await removePod(d, (await runToStarted(d, image, logRoot, `warm-p${i}`, [])).pod);
      await removePod(d, (await runToStarted(d, image, logRoot, `warm-v${i}`, mounts)).pod);
    }
    // Interleaved, each pod removed before the next: every image-volume run mounts the image afresh.
    const plain: number[] = [];
    const first: number[] = [];
    const ids = { p: new Set<string>(), v: new Set<string>(), p2: new Set<string>(), s: new Set<string>() };
    const mark = d.logs().length;
    for (let i = 0; i < ROUNDS; i++) {
      for (const [xs, m, n] of [[plain, [], "p"], [first, mounts, "v"]] as const) {
        const s = await runToStarted(d, image, logRoot, `${n}-${i}`, [...m]);
        xs.push(s.ms);
        ids[n].add(s.pod);
        await removePod(d, s.pod);
      }
    }
    const logs1 = d.logs().slice(mark);
    // A holder keeps the image mounted: later pods reuse the one mount.
    const holder = await runToStarted(d, image, logRoot, "holder", mounts);
    pods.push(holder.pod);
    const shared: number[] = [];
    const plain2: number[] = [];
    const mark2 = d.logs().length;
    for (let i = 0; i < ROUNDS; i++) {
      for (const [xs, m, n] of [[plain2, [], "p2"], [shared, mounts, "s"]] as const) {
        const s = await runToStarted(d, image, logRoot, `${n}-${i}`, [...m]);
        xs.push(s.ms);
        ids[n].add(s.pod);
        await removePod(d, s.pod);
      }
    }
    const logs2 = d.logs().slice(mark2);
    emit("image_volumes_run_to_started_plain_p50", summary(plain).p50, "ms");
    emit("image_volumes_run_to_started_with_volume_first_mount_p50", summary(first).p50, "ms");
    emit("image_volumes_run_to_started_first_mount_over_plain_p50", summary(first).p50 - summary(plain).p50, "ms");
    emit("image_volumes_create_step_mount_first_p50", stepMedian(logs1, "image_volumes", ids.v), "ms");
    for (const step of ["rootfs", "spec", "runc_create", "total"]) {
      emit(`image_volumes_create_step_${step}_plain_p50`, stepMedian(logs1, step, ids.p), "ms");
      emit(`image_volumes_create_step_${step}_with_volume_p50`, stepMedian(logs1, step, ids.v), "ms");
    }
    emit("image_volumes_run_to_started_plain_again_p50", summary(plain2).p50, "ms");
    emit("image_volumes_run_to_started_with_volume_shared_p50", summary(shared).p50, "ms");
    emit("image_volumes_run_to_started_shared_over_plain_p50", summary(shared).p50 - summary(plain2).p50, "ms");
    emit("image_volumes_create_step_mount_shared_p50", stepMedian(logs2, "image_volumes", ids.s), "ms");
  } finally {
    await Promise.allSettled(pods.map((p) => removePod(d, p)));
    await d.stop();
    await reg.stop();
    await rm(certsD, { recursive: true, force: true });
    await run("ip", ["link", "del", `bv${id}`]).catch(() => undefined);
    for (const h of await readdir("/sys/fs/cgroup")) await rmdir(join("/sys/fs/cgroup", h, cgroupParent)).catch(() => undefined);
    await writeFile(IP_FORWARD, ipForward);
  }
}
