// The decompression-bomb refusal: a 10 GiB-of-zeros gzip layer (~10 MB compressed) pulled from
// the loopback registry; how long until the daemon refuses it (the compression-ratio guard).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { call } from "../src/cli/client.js";
import { pushBomb } from "../test/fixtures/bomb.js";
import { startDaemon, type Daemon } from "../test/fixtures/daemon.js";
import { startRegistry, writeHostsToml } from "../test/fixtures/registry.js";
import type { Emit } from "./emit.js";
import { summary } from "./stats.js";

const RUNS = 3;

async function refusalMs(d: Daemon, ref: string): Promise<number> {
  const c = d.client;
  const t0 = performance.now();
  try {
    await call(c, c.image, c.image.pullImage, {
      image: { image: ref, annotations: {}, userSpecifiedImage: "", runtimeHandler: "", imageRef: "" }, auth: undefined, sandboxConfig: undefined,
    }, 300_000);
  } catch (err) {
    const ms = performance.now() - t0;
    if (!/images\.max_compression_ratio/.test(String(err))) throw err;
    return ms;
  }
  throw new Error(`the bomb ${ref} was pulled`);
}

export async function bombBench(emit: Emit): Promise<void> {
  const reg = await startRegistry();
  const certsD = await mkdtemp(join(tmpdir(), "berth-bench-certsd-"));
  let d: Daemon | undefined;
  try {
    await writeHostsToml(certsD, reg);
    const bomb = await pushBomb(reg, "bench/bomb", "v1", 10 * 1024 ** 3);
    d = await startDaemon({ toml: `[registry]\nconfig_path = "${certsD}"\nregistries_conf = "${join(certsD, "none.conf")}"\n`, args: ["--log-level", "info"] });
    const ms: number[] = [];
    for (let i = 0; i < RUNS; i++) ms.push(await refusalMs(d, bomb.reference));
    emit("bomb_compressed_bytes", bomb.blobBytes / 1e6, "MB");
    emit("bomb_refusal_first", ms[0]!, "ms");
    emit("bomb_refusal", summary(ms).p50, "ms");
  } finally {
    await d?.stop();
    await reg.stop();
    await rm(certsD, { recursive: true, force: true });
  }
}
