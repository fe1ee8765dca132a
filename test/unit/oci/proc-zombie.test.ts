// zombieExitCode reads the wait status a zombie left in /proc (how Berth learns the exit of a
// container whose conmon died): exit codes, 128+signal, and nothing for live or other processes.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import { procStartTime, zombieExitCode } from "../../../src/oci/proc.js";

/** A zombie child of `sleep` (which never reaps): the pid of `(cmd) &`, left unreaped. */
async function zombie(t: { after(fn: () => unknown): void }, cmd: string): Promise<number> {
  // The child waits a little so that sh has exec'd sleep (and so stopped reaping) before it ends.
  const p = spawn("sh", ["-c", `(sleep 0.3; ${cmd}) & echo $!; exec sleep 30`], { stdio: ["ignore", "pipe", "ignore"] });
  t.after(async () => {
    p.kill("SIGKILL");
    if (p.exitCode === null && p.signalCode === null) await once(p, "exit");
  });
  const [chunk] = (await once(p.stdout!, "data")) as [Buffer];
  return Number(chunk.toString().trim());
}

async function waitZombie(pid: number): Promise<string> {
  for (let i = 0; i < 500; i++) {
    const { readFile } = await import("node:fs/promises");
    const s = await readFile(`/proc/${pid}/stat`, "latin1");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    if (f[0] === "Z") return f[19]!;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`pid ${pid} never became a zombie`);
}

test("an exit code and a signal are read from the zombie", async (t) => {
  const exited = await zombie(t, "exit 7");
  assert.equal(await zombieExitCode(exited, await waitZombie(exited)), 7);
  const killed = await zombie(t, "exec sh -c 'kill -9 $$'");
  assert.equal(await zombieExitCode(killed, await waitZombie(killed)), 137);
});

test("no code for a live process, a wrong start time or a missing pid", async (t) => {
  assert.equal(await zombieExitCode(process.pid, (await procStartTime(process.pid))!), undefined);
  const pid = await zombie(t, "exit 3");
  const st = await waitZombie(pid);
  assert.equal(await zombieExitCode(pid, String(Number(st) + 1)), undefined);
  assert.equal(await zombieExitCode(2 ** 22 + 1, st), undefined);
});
