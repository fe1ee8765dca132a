// The cost of crash consistency (images.sync): the same pulls with blobs fsynced and layers
// synced before the image record commits, and without; wall time medians and the difference.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { call } from "../src/cli/client.js";
import { startDaemon, type Daemon } from "../test/fixtures/daemon.js";
import { pushImage, type PushedImage } from "../test/fixtures/images.js";
import { buildTar, type LayerEntry } from "../test/fixtures/layers.js";
import { startRegistry, writeHostsToml } from "../test/fixtures/registry.js";
import type { Emit } from "./emit.js";

const RUNS = 5;
const spec = (image: string) => ({ image, annotations: {}, userSpecifiedImage: "", runtimeHandler: "", imageRef: "" });

async function medianPullMs(d: Daemon, ref: string): Promise<number> {
  const c = d.client;
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await call(c, c.image, c.image.pullImage, { image: spec(ref), auth: undefined, sandboxConfig: undefined }, 120_000);
    ms.push(performance.now() - t0);
    await call(c, c.image, c.image.removeImage, { image: spec(ref) }); // cold again
  }
  ms.sort((a, b) => a - b);
  return ms[Math.floor(ms.length / 2)]!;
}

export async function pullSyncBench(emit: Emit): Promise<void> {
  const reg = await startRegistry();
  const certsD = await mkdtemp(join(tmpdir(), "berth-bench-certsd-"));
  try {
    await writeHostsToml(certsD, reg);
    const files: LayerEntry[] = [];
    for (let i = 0; i < 2000; i++) files.push({ type: "file", path: `f${i}`, content: `file ${i}\n` });
    const images: Record<string, PushedImage> = {
      "64mb_2_layers": await pushImage(reg, { repo: "bench/sync-big", tag: "v1", layers: [
        { tar: await buildTar([{ type: "file", path: "a.bin", content: randomBytes(32e6) }]) },
        { tar: await buildTar([{ type: "file", path: "b.bin", content: randomBytes(32e6) }]) },
      ] }),
      "2k_files": await pushImage(reg, { repo: "bench/sync-files", tag: "v1", layers: [{ tar: await buildTar(files) }] }),
    };
    for (const sync of [true, false]) {
      const d = await startDaemon({
        toml: `[registry]\nconfig_path = "${certsD}"\nregistries_conf = "${join(certsD, "none.conf")}"\n`,
        args: ["--log-level", "info"], env: { BERTH_IMAGES_SYNC: String(sync) },
      });
      try {
        for (const [name, img] of Object.entries(images)) emit(`pull_${name}_sync_${sync ? "on" : "off"}_wall_p50`, await medianPullMs(d, img.reference), "ms");
      } finally {
        await d.stop();
      }
    }
  } finally {
    await reg.stop();
    await rm(certsD, { recursive: true, force: true });
  }
}
