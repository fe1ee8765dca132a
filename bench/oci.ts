// OCI driver figures on one busybox bundle: bare runc create+start (the floor), the same through
// conmon, stop+delete (ours vs runc delete --force), ExecSync `true`. Run: node dist/bench/oci.js
import { spawn } from "node:child_process";
import { pathToFileURL } from "node:url";
import { OciKit } from "../test/integration/oci/kit.js";
import { summary } from "./stats.js";
import type { Emit } from "./emit.js";

const ROUNDS = 20;

function runc(kit: OciKit, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    // All stdio ignored: runc create hands its stdio to the container, so a pipe would stay open.
    const p = spawn(kit.runtime.runc.path, [...kit.runtime.runc.globalArgs(), ...args], { stdio: "ignore" });
    p.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`runc ${args.join(" ")} exited ${code}`))));
  });
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

export async function ociBench(emit: Emit): Promise<void> {
  const kit = await OciKit.open();
  try {
    const spec = { args: ["sleep", "1000"] };
    const bare: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const b = await kit.bundle(spec, "bare");
      bare.push(await timed(async () => {
        await runc(kit, ["create", "--bundle", b.bundleDir, b.id]);
        await runc(kit, ["start", b.id]);
      }));
      await runc(kit, ["delete", "--force", b.id]);
    }
    const viaConmon: number[] = [];
    const stopDelete: number[] = [];
    const forceDelete: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const b = await kit.bundle(spec);
      let id = "";
      viaConmon.push(await timed(async () => {
        const rec = await kit.runtime.create({ ...b, tty: false, stdin: false, stdinOnce: false });
        kit.made.push(rec);
        id = rec.id;
        await kit.runtime.start(id);
      }));
      if (i % 2 === 0) {
        stopDelete.push(await timed(async () => {
          await kit.runtime.stop(id, "SIGKILL", 10_000);
          await kit.runtime.delete(id);
        }));
      } else {
        forceDelete.push(await timed(() => runc(kit, ["delete", "--force", id])));
      }
    }
    const box = await kit.run(spec);
    const exec: number[] = [];
    for (let i = 0; i < 40; i++) exec.push(await timed(async () => void (await kit.runtime.execSync(box.id, ["true"], { timeoutMs: 5000 }))));

    const report = (name: string, xs: number[]): void => {
      const s = summary(xs);
      emit(`${name}_p50`, s.p50, "ms");
      emit(`${name}_p90`, s.p90, "ms");
    };
    report("oci_bare_runc_create_start", bare);
    report("oci_conmon_create_start", viaConmon);
    report("oci_stop_delete", stopDelete);
    report("oci_runc_delete_force", forceDelete);
    report("oci_exec_sync_true", exec);
  } finally {
    await kit.cleanup();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const emit: Emit = (name, value, unit) => process.stdout.write(`${name}: ${Number.isInteger(value) ? value : value.toFixed(2)} ${unit}\n`);
  await ociBench(emit);
}
