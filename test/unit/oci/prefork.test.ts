// Tests of the spare shell ExecSync's runc runs in: the command gets exactly its argv, the spare's
// pid, its own session and /dev/null as stdin, and its exit code; no spare means the caller spawns.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { setTimeout as delay } from "node:timers/promises";
import { execLine, Prefork, shQuote, type Piped } from "../../../src/oci/prefork.js";

async function ready(p: Prefork): Promise<void> {
  p.refill();
  for (let i = 0; i < 500 && !p.ready; i++) await delay(5);
  assert.ok(p.ready, "a spare was forked");
}

function run(child: Piped): Promise<{ code: number | null; out: string; err: string }> {
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  return new Promise((res) => child.on("close", (code) => res({ code, out, err })));
}

test("shQuote keeps every byte literal for sh", () => {
  assert.equal(shQuote("a b"), "'a b'");
  assert.equal(shQuote("it's"), `'it'\\''s'`);
  assert.equal(execLine("/bin/x", ["-a", ""]), "exec '/bin/x' '-a' '' </dev/null\n");
});

test("the spare execs the command with exactly its arguments, as its own pid, in its own session", async (t) => {
  const p = new Prefork();
  t.after(() => p.close());
  assert.ok(p.usable, "/bin/sh is there");
  assert.equal(p.take("/bin/true", []), undefined, "no spare before the first refill: the caller spawns");
  await ready(p);
  const args = ["plain", "two words", "it's", "$HOME", "`id`", "$(id)", "a\nb", "back\\slash", "*", "", "-e", ";exit 3"];
  const child = p.take("/usr/bin/printf", ["%s\\0", ...args]);
  assert.ok(child, "the spare was handed out");
  assert.equal(p.ready, false, "a spare is used once");
  const r = await run(child);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.out.split("\0").slice(0, -1), args);

  await ready(p);
  const probe = p.take("/bin/sh", ["-c", 'echo $$; cut -d" " -f6 /proc/$$/stat; readlink /proc/self/fd/0; exit 7'])!;
  const pid = probe.pid;
  const q = await run(probe);
  assert.equal(q.code, 7, "the command's exit code");
  const [own, session, stdin] = q.out.trim().split("\n");
  assert.equal(Number(own), pid, "exec kept the spare's pid: the timeout kill finds the command by it");
  assert.equal(Number(session), pid, "the command leads its own session");
  assert.equal(stdin, "/dev/null");
});

test("an argument with NUL, a dead spare and a closed Prefork all leave the spawn to the caller", async (t) => {
  const p = new Prefork();
  t.after(() => p.close());
  await ready(p);
  assert.equal(p.take("/bin/echo", ["a\0b"]), undefined);
  await ready(p);
  const spare = p.spareForTest()!;
  spare.kill("SIGKILL");
  await new Promise((r) => spare.once("exit", r));
  assert.equal(p.take("/bin/true", []), undefined, "a killed spare is not handed out");
  await ready(p);
  const last = p.spareForTest()!;
  p.close();
  await new Promise((r) => (last.exitCode !== null || last.signalCode !== null ? r(undefined) : last.once("exit", r)));
  assert.equal(last.signalCode, "SIGKILL", "close kills the spare");
  assert.equal(p.take("/bin/true", []), undefined);
  p.refill();
  await delay(20);
  assert.equal(p.ready, false, "no spare after close");
  assert.match(await readFile("/proc/self/stat", "utf8"), /^\d+ /); // the test process is unharmed
});
