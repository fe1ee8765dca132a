// The runc process wrapper: a runc that exits without reading its stdin (runc update's resources JSON) gives its exit
// code, not an uncaught EPIPE that would end the daemon; one that hangs is killed, children too, at its timeout or abort.
import assert from "node:assert/strict";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { BerthError, Code } from "../../../src/errors.js";
import { Runc } from "../../../src/oci/runc.js";

test("input runc never reads (it exits first) is an exit code, not an uncaught EPIPE", async () => {
  // `false` ignores its arguments and stdin and exits 1; 4 MiB cannot fit the pipe buffer.
  const runc = new Runc("/bin/false", "/nonexistent-root");
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  process.on("uncaughtException", onUncaught);
  try {
    for (let i = 0; i < 3; i++) {
      const r = await runc.run(["update", "--resources", "-", "x"], { input: "x".repeat(4 << 20) });
      assert.equal(r.code, 1);
    }
    await new Promise((res) => setTimeout(res, 50));
  } finally {
    process.off("uncaughtException", onUncaught);
  }
  assert.deepEqual(uncaught, []);
});

/** A runtime that never answers: its shell and a child it waits for, their pids written to `pids`. */
async function hungRuntime(dir: string): Promise<{ runc: Runc; pids: () => Promise<number[]> }> {
  const bin = join(dir, "hung-runtime");
  await writeFile(bin, `#!/bin/sh\nsleep 1000 &\necho $$ $! > ${join(dir, "pids")}\nwait\n`);
  await chmod(bin, 0o755);
  const pids = async () => (await readFile(join(dir, "pids"), "utf8").catch(() => "")).trim().split(" ").filter(Boolean).map(Number);
  return { runc: new Runc(bin, join(dir, "root")), pids };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(ok: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; !(await ok()); i++) {
    assert.ok(i < 500, "gave up waiting");
    await new Promise((res) => setTimeout(res, 10));
  }
}

for (const how of ["abort", "timeout"] as const) {
  test(`a runtime that hangs is killed with its children at its ${how === "abort" ? "caller's abort" : "timeout"}`, async () => {
    const dir = await mkdtemp(join(tmpdir(), "berth-runc-hang-"));
    try {
      const { runc, pids } = await hungRuntime(dir);
      const ac = new AbortController();
      const why = new BerthError(Code.DEADLINE_EXCEEDED, "the caller's deadline passed");
      const running = runc.run(["start", "x"], how === "abort" ? { signal: ac.signal } : { timeoutMs: 300 });
      running.catch(() => undefined);
      await until(async () => (await pids()).length === 2);
      if (how === "abort") ac.abort(why);
      await assert.rejects(running, (e: BerthError) => e.code === Code.DEADLINE_EXCEEDED && (how === "timeout" || e === why));
      const [shell, child] = await pids();
      await until(() => !alive(shell!) && !alive(child!));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test("a signal already aborted runs nothing", async () => {
  const ac = new AbortController();
  ac.abort(new BerthError(Code.CANCELLED, "gone"));
  await assert.rejects(new Runc("/bin/true", "/nonexistent-root").run(["start", "x"], { signal: ac.signal }), (e: BerthError) => e.code === Code.CANCELLED);
});
