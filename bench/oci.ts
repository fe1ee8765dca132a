// OCI driver figures on one busybox bundle: bare runc create+start (the floor), the same through
// conmon, stop+delete (ours vs runc delete --force), ExecSync `true` and its timeout, how soon stop
// and force delete return (timings the integration tests used to assert). Run: node dist/bench/oci.js
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
    // A 300 ms timeout on a command that never ends: how long until ExecSync answers.
    const execTimeout: number[] = [];
    for (let i = 0; i < 5; i++) {
      execTimeout.push(await timed(() => kit.runtime.execSync(box.id, ["sleep", "100"], { timeoutMs: 300 }).then(() => undefined, () => undefined)));
    }
    // Stop of a process that honours SIGTERM (5 s timeout unused), of one that ignores it (400 ms
    // timeout, then SIGKILL: reported as the delay past the timeout), force delete of a running one.
    const polite: number[] = [];
    const overshoot: number[] = [];
    const deleteRunning: number[] = [];
    for (let i = 0; i < 5; i++) {
      const p = await kit.run({ args: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.05; done"] });
      const s = await kit.run({ args: ["sh", "-c", "trap '' TERM; while true; do sleep 0.05; done"] });
      const r = await kit.run({ args: ["sleep", "100"] });
      await new Promise((res) => setTimeout(res, 150));
      polite.push(await timed(async () => void (await kit.runtime.stop(p.id, "SIGTERM", 5000))));
      overshoot.push((await timed(async () => void (await kit.runtime.stop(s.id, "SIGTERM", 400)))) - 400);
      deleteRunning.push(await timed(() => kit.runtime.delete(r.id, { force: true })));
    }

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
    emit("oci_exec_sync_true_min", Math.min(...exec), "ms");
    report("oci_exec_sync_timeout_300ms_return", execTimeout);
    report("oci_stop_sigterm_honoured", polite);
    report("oci_stop_sigkill_after_timeout_overshoot", overshoot);
    report("oci_delete_force_running", deleteRunning);
  } finally {
    await kit.cleanup();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const emit: Emit = (name, value, unit) => process.stdout.write(`${name}: ${Number.isInteger(value) ? value : value.toFixed(2)} ${unit}\n`);
  await ociBench(emit);
}
