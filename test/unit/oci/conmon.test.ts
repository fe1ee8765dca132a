// conmon's create handshake when conmon dies before reading its start pipe (a bad flag, a crash):
// the create fails at once naming conmon, with no uncaught error and no signal to its reaped pid.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { BerthError, Code } from "../../../src/errors.js";
import { conmonCreate } from "../../../src/oci/conmon.js";
import { Runc } from "../../../src/oci/runc.js";

test("a conmon that exits before its start pipe is written fails the create cleanly", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berth-conmon-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  process.on("uncaughtException", onUncaught);
  // The exited conmon's pid is free for reuse: the cleanup must not signal it.
  const killed: Array<[number, unknown]> = [];
  const kill = process.kill;
  process.kill = ((pid: number, signal?: string | number) => (killed.push([pid, signal]), kill.call(process, pid, signal))) as typeof process.kill;
  try {
    await assert.rejects(
      conmonCreate({
        conmonPath: "/bin/false", // exits 1 at once, like a conmon refusing a flag
        runc: new Runc("/bin/true", join(dir, "runc-root")),
        id: "c".repeat(64),
        bundleDir: dir,
        tty: false,
        stdin: false,
        stdinOnce: false,
        exitDir: join(dir, "exits"),
        persistDir: join(dir, "persist"),
        socketDir: join(dir, "sockets"),
        logLevel: "error",
        syslog: false,
        systemdCgroup: false,
        timeoutMs: 5000,
        // Placing conmon takes a moment; by then it is gone and the start pipe has no reader.
        placeConmon: () => new Promise((r) => setTimeout(r, 200)),
      }),
      (e: unknown) => e instanceof BerthError && e.code === Code.INTERNAL && /conmon for container "c+" exited \(code 1\)/.test(e.message),
    );
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    process.off("uncaughtException", onUncaught);
    process.kill = kill;
  }
  assert.deepEqual(uncaught, []);
  assert.deepEqual(killed, [], "no signal to a pid that conmon no longer holds");
});
