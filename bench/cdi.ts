// The CDI rescan CreateContainer pays when a container asks for a CDI device: a cold load of a
// GPU-node-sized spec directory, then the warm rescan (readdir + one stat per file) and resolve.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CdiRegistry } from "../src/containers/cdi/registry.js";
import { ContainerConfig } from "../src/generated/runtime/v1/api.js";
import type { Emit } from "./emit.js";
import { summary } from "./stats.js";

const FILES = 8;
const DEVICES = 16;
const RUNS = 50;

/** One file per class, shaped like a generated GPU spec: device nodes per device, many shared mounts. */
function specYaml(i: number): string {
  const mounts = Array.from({ length: 60 }, (_, m) => `    - { hostPath: /usr/lib/x86_64-linux-gnu/libvendor${m}.so.550, containerPath: /usr/lib/x86_64-linux-gnu/libvendor${m}.so.550, options: [ro, nosuid, nodev, bind] }`);
  const devices = Array.from({ length: DEVICES }, (_, d) => `  - name: "${d}"\n    containerEdits:\n      deviceNodes:\n        - { path: /dev/vendor${d}, hostPath: /dev/null }`);
  return `cdiVersion: "0.5.0"\nkind: vendor.com/class${i}\ncontainerEdits:\n  env: [VENDOR_VISIBLE=all]\n  mounts:\n${mounts.join("\n")}\n  hooks:\n    - { hookName: createContainer, path: /usr/bin/vendor-hook, args: [vendor-hook, update-ldcache] }\ndevices:\n${devices.join("\n")}\n`;
}

export async function cdiBench(emit: Emit): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "berth-bench-cdi-"));
  try {
    for (let i = 0; i < FILES; i++) await writeFile(join(dir, `vendor-class${i}.yaml`), specYaml(i));
    const config = ContainerConfig.fromPartial({ CDIDevices: [{ name: "vendor.com/class3=7" }] });
    const cold: number[] = [];
    for (let r = 0; r < 5; r++) {
      const reg = new CdiRegistry([dir, join(dir, "missing")]);
      const t0 = performance.now();
      await reg.resolve(config);
      cold.push(performance.now() - t0);
    }
    const reg = new CdiRegistry([dir, join(dir, "missing")]);
    await reg.resolve(config);
    const warm: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      await reg.resolve(config);
      warm.push(performance.now() - t0);
    }
    emit(`cdi_cold_load_${FILES}x${DEVICES}_p50`, summary(cold).p50, "ms");
    emit(`cdi_warm_rescan_resolve_p50`, summary(warm).p50, "ms");
    emit(`cdi_warm_rescan_resolve_p90`, summary(warm).p90, "ms");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
