// The OCI driver against real runc 1.1 and conmon 2.1.6: create/start/exit codes, CRI log
// lines, stop escalation, delete twice, failing creates that leave nothing behind.
import assert from "node:assert/strict";
import { access, readdir, readFile } from "node:fs/promises";
import { after, before, test } from "node:test";
import { BerthError, Code } from "../../../src/errors.js";
import { processAlive } from "../../../src/oci/proc.js";
import { cgroupPids, conmonsFor, OciKit, waitFor } from "./kit.js";

let kit: OciKit;
before(async () => {
  kit = await OciKit.open();
});
after(async () => {
  await kit.cleanup();
});

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);

test("exit codes 0 and 3 reach the exit watcher, the waiter and the persist dir", async () => {
  const seen: string[] = [];
  kit.runtime.exits.on("exit", (e) => seen.push(`${e.id}=${e.code}`));
  const ok = await kit.run({ args: ["true"] });
  const three = await kit.run({ args: ["sh", "-c", "exit 3"] });
  const [e0, e3] = await Promise.all([kit.runtime.exits.waitForExit(ok.id, 5000), kit.runtime.exits.waitForExit(three.id, 5000)]);
  assert.equal(e0?.code, 0);
  assert.equal(e3?.code, 3);
  assert.ok(e3 && e3.timestampNs > BigInt(Date.now() - 60_000) * 1_000_000n);
  await waitFor("exit events", async () => seen.includes(`${ok.id}=0`) && seen.includes(`${three.id}=3`));
  const report = await kit.runtime.inspect(three);
  assert.equal(report.exit?.code, 3);
  assert.equal(report.processAlive, false);
  assert.equal(await readFile(`${three.persistDir}/exit`, "utf8"), "3");
  await waitFor("conmon to exit", async () => !(await processAlive(three.conmonPid, three.conmonStartTime)));
  assert.equal((await kit.runtime.state(three.id)).status, "stopped");
});

test("SIGKILL gives 137; state moves created -> running -> stopped", async () => {
  const rec = await kit.create({ args: ["sleep", "100"] });
  assert.equal((await kit.runtime.state(rec.id)).status, "created");
  await kit.runtime.start(rec.id);
  const st = await kit.runtime.state(rec.id);
  assert.equal(st.status, "running");
  assert.equal(st.pid, rec.pid);
  assert.equal(await kit.runtime.kill(rec.id, "SIGKILL"), true);
  const e = await kit.runtime.exits.waitForExit(rec.id, 5000);
  assert.equal(e?.code, 137);
  assert.equal(await kit.runtime.kill(rec.id, "SIGKILL"), false, "a dead container is not signalled");
  assert.equal((await kit.runtime.state(rec.id)).status, "stopped");
});

test("CRI log lines: P for a partial chunk, F for full lines, both streams", async () => {
  const rec = await kit.run({ args: ["sh", "-c", "printf partial; sleep 0.3; echo ' rest'; echo oops >&2"] });
  assert.equal((await kit.runtime.exits.waitForExit(rec.id, 5000))?.code, 0);
  await waitFor("conmon to exit", async () => !(await processAlive(rec.conmonPid, rec.conmonStartTime)));
  const lines = (await readFile(rec.logPath ?? "", "utf8")).split("\n").filter(Boolean);
  const parsed = lines.map((l) => {
    const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(?:Z|[+-]\d\d:\d\d)) (stdout|stderr) ([PF]) (.*)$/.exec(l);
    assert.ok(m, `not a CRI log line: ${JSON.stringify(l)}`);
    assert.ok(!Number.isNaN(Date.parse(m[1] ?? "")));
    return `${m[2]} ${m[3]} ${m[4]}`;
  });
  assert.deepEqual(parsed.filter((l) => l.startsWith("stdout")), ["stdout P partial", "stdout F  rest"]);
  assert.deepEqual(parsed.filter((l) => l.startsWith("stderr")), ["stderr F oops"]);
});

test("stop: SIGTERM honoured exits at once; SIGTERM ignored is escalated to SIGKILL after the timeout", async () => {
  const polite = await kit.run({ args: ["sh", "-c", "trap 'exit 0' TERM; echo ready; while true; do sleep 0.05; done"] });
  const stubborn = await kit.run({ args: ["sh", "-c", "trap '' TERM; echo ready; while true; do sleep 0.05; done"] });
  await new Promise((r) => setTimeout(r, 150));
  const e1 = await kit.runtime.stop(polite.id, "SIGTERM", 5000);
  assert.equal(e1.code, 0, "exited by its own TERM handler, not killed");
  const t = performance.now();
  const e2 = await kit.runtime.stop(stubborn.id, "SIGTERM", 400);
  const took = performance.now() - t;
  assert.equal(e2.code, 137);
  // A lower bound only: SIGKILL must not come before the timeout (how soon after: bench/oci.ts).
  assert.ok(took >= 400, `SIGKILL came after ${took} ms, before the 400 ms timeout`);
  // Stop is idempotent: a second call reports the same exit.
  assert.equal((await kit.runtime.stop(stubborn.id, "SIGTERM", 400)).code, 137);
});

test("delete: refuses a running container without force, kills it with force, twice is fine", async () => {
  const rec = await kit.run({ args: ["sleep", "100"] });
  await assert.rejects(kit.runtime.delete(rec.id), (e: unknown) => e instanceof BerthError && e.code === Code.FAILED_PRECONDITION);
  await kit.runtime.delete(rec.id, { force: true });
  await kit.runtime.delete(rec.id, { force: true });
  await kit.runtime.delete(rec.id);
  await assert.rejects(kit.runtime.state(rec.id), (e: unknown) => e instanceof BerthError && e.code === Code.NOT_FOUND);
  assert.equal(await processAlive(rec.pid, rec.pidStartTime), false);
  await waitFor("conmon to exit", async () => (await conmonsFor(rec.id)).length === 0);
  assert.deepEqual(await cgroupPids(`${kit.cgroupParent}/${rec.id}`), []);
  assert.equal(await exists(`${kit.runtime.dirs.exitDir}/${rec.id}`), false, "exit file forgotten");
});

test("a created (never started) container deletes cleanly", async () => {
  const rec = await kit.create({ args: ["sleep", "100"] });
  await kit.runtime.delete(rec.id);
  await assert.rejects(kit.runtime.state(rec.id), (e: unknown) => e instanceof BerthError && e.code === Code.NOT_FOUND);
  await waitFor("conmon to exit", async () => (await conmonsFor(rec.id)).length === 0);
});

for (const [what, spec, expect] of [
  ["a binary missing from the rootfs", { args: ["/bin/nosuch"] }, /nosuch.*(no such file|not found)/i],
  ["a file that is not executable", { args: ["/etc/passwd"] }, /\/etc\/passwd.*permission denied/i],
] as const) {
  test(`failing create (${what}) surfaces runc's message and leaves nothing behind`, async () => {
    const b = await kit.bundle({ ...spec, args: [...spec.args] });
    const err = await kit.runtime
      .create({ ...b, tty: false, stdin: false, stdinOnce: false, timeoutMs: 20_000 })
      .then((rec) => void kit.made.push(rec), (e: unknown) => e);
    assert.ok(err instanceof BerthError, `expected a BerthError, got ${String(err)}`);
    assert.match(err.message, expect);
    assert.match(err.message, new RegExp(`container "${b.id}"`));
    await assert.rejects(kit.runtime.state(b.id), (e: unknown) => e instanceof BerthError && e.code === Code.NOT_FOUND);
    await waitFor("conmon to exit", async () => (await conmonsFor(b.id)).length === 0);
    assert.equal(await exists(`${kit.runtime.dirs.socketDir}/${b.id}`), false, "attach link removed");
    assert.equal(await exists(`${b.bundleDir}/conmon-pidfile`), false);
    assert.deepEqual(await cgroupPids(`${kit.cgroupParent}/${b.id}`), []);
    assert.equal(await exists(`/sys/fs/cgroup/memory${kit.cgroupParent}/${b.id}`), false, "container cgroup removed");
    assert.ok(!(await kit.runtime.runc.list()).includes(b.id), "runc state dir has no entry");
  });
}

test("a create that stalls past its timeout is DEADLINE_EXCEEDED and killed: conmon, runc, hook, state", async () => {
  // A createRuntime hook runs inside `runc create`, in conmon's session: a stand-in for a hung runc.
  const b = await kit.bundle({ args: ["true"], hooks: { createRuntime: [{ path: "/bin/sleep", args: ["sleep", "37.25"] }] } });
  const pending = kit.runtime
    .create({ ...b, tty: false, stdin: false, stdinOnce: false, timeoutMs: 400 })
    .then((rec) => void kit.made.push(rec), (e: unknown) => e);
  await waitFor("the hook to run", async () => (await hookSleepers()).length === 1, 390);
  const err = await pending;
  assert.ok(err instanceof BerthError && err.code === Code.DEADLINE_EXCEEDED, String(err));
  assert.match(err.message, new RegExp(`create container "${b.id}".*400 ms`));
  await waitFor("conmon to go", async () => (await conmonsFor(b.id)).length === 0);
  await assert.rejects(kit.runtime.state(b.id), (e: unknown) => e instanceof BerthError && e.code === Code.NOT_FOUND);
  const sleepers = await hookSleepers();
  assert.deepEqual(sleepers, [], "the hook's sleep was killed");
});

async function hookSleepers(): Promise<number[]> {
  const out: number[] = [];
  for (const n of await readdir("/proc")) {
    if (!/^\d+$/.test(n)) continue;
    const cmd = await readFile(`/proc/${n}/cmdline`, "utf8").catch(() => "");
    if (cmd === "sleep\u000037.25\u0000") out.push(Number(n));
  }
  return out;
}

test("a log path with ':' is refused before anything starts", async () => {
  const b = await kit.bundle({ args: ["true"] });
  await assert.rejects(
    kit.runtime.create({ ...b, logPath: `${kit.dir}/a:b.log`, tty: false, stdin: false, stdinOnce: false }),
    (e: unknown) => e instanceof BerthError && e.code === Code.INVALID_ARGUMENT,
  );
  assert.deepEqual(await conmonsFor(b.id), []);
});
