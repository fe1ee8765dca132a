// What conmon does for Berth beyond create: log reopen after kubelet's rename, the OOM file on
// cgroup v1, conmon placed in a cgroup before it starts, resource updates, adoption after a restart.
import assert from "node:assert/strict";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { BerthError, Code } from "../../../src/errors.js";
import { processAlive } from "../../../src/oci/proc.js";
import { OciRuntime } from "../../../src/oci/runtime.js";
import { cgroupDirs, OciKit, waitFor } from "./kit.js";

let kit: OciKit;
before(async () => {
  kit = await OciKit.open();
});
after(async () => {
  await kit.cleanup();
});

function logPayloads(text: string): string[] {
  return text.split("\n").filter(Boolean).map((l) => l.split(" ").slice(3).join(" "));
}

test("reopenLog after a kubelet-style rename loses no line", async () => {
  const rec = await kit.run({ args: ["sh", "-c", "i=0; while [ $i -lt 60 ]; do echo line-$i; i=$((i+1)); sleep 0.01; done"] });
  const log = rec.logPath ?? "";
  await waitFor("some lines", async () => (await readFile(log, "utf8").catch(() => "")).includes("line-10"));
  await rename(log, `${log}.20260101-000000`);
  await kit.runtime.reopenLog(rec.id);
  assert.ok((await readFile(log, "utf8").catch(() => undefined)) !== undefined, "a new file at the same path");
  await kit.runtime.exits.waitForExit(rec.id, 10_000);
  await waitFor("conmon to exit", async () => !(await processAlive(rec.conmonPid, rec.conmonStartTime)));
  const old = logPayloads(await readFile(`${log}.20260101-000000`, "utf8"));
  const fresh = logPayloads(await readFile(log, "utf8"));
  assert.ok(old.length > 0 && fresh.length > 0, `old ${old.length}, new ${fresh.length}`);
  assert.deepEqual([...old, ...fresh], Array.from({ length: 60 }, (_, i) => `line-${i}`));
  await assert.rejects(kit.runtime.reopenLog(rec.id), (e: unknown) => e instanceof BerthError && e.code === Code.FAILED_PRECONDITION);
});

test("a cgroup OOM kill leaves conmon's oom file (cgroup v1 eventfd) and exit 137", async () => {
  const rec = await kit.run({ args: ["sh", "-c", "tail /dev/zero"], memoryLimit: 16 * 1024 * 1024 });
  const e = await kit.runtime.exits.waitForExit(rec.id, 20_000);
  assert.equal(e?.code, 137);
  assert.equal(await kit.runtime.oomKilled(rec.id), true);
  const plain = await kit.run({ args: ["true"] });
  await kit.runtime.exits.waitForExit(plain.id, 5000);
  assert.equal(await kit.runtime.oomKilled(plain.id), false);
});

test("conmon can be placed in a cgroup before it starts anything", async () => {
  const cg = `${kit.cgroupParent}/conmon`;
  kit.extraCgroups.push(cg);
  const dirs = (await cgroupDirs(cg)).filter((d) => /\/(memory|pids|cpu)\//.test(d));
  const rec = await kit.run(
    { args: ["sleep", "100"] },
    {
      placeConmon: async (pid) => {
        for (const d of dirs) {
          await mkdir(d, { recursive: true });
          await writeFile(join(d, "cgroup.procs"), String(pid));
        }
      },
    },
  );
  const own = await readFile(`/proc/${rec.conmonPid}/cgroup`, "utf8");
  assert.match(own, new RegExp(`:memory:${cg}\\n`));
  assert.match(own, new RegExp(`:pids:${cg}\\n`));
  const ctr = await readFile(`/proc/${rec.pid}/cgroup`, "utf8");
  assert.match(ctr, new RegExp(`:memory:${kit.cgroupParent}/${rec.id}\\n`), "runc still puts the container in its own cgroup");
  await kit.runtime.delete(rec.id, { force: true });
});

test("a failing placement kills the waiting conmon and leaves nothing", async () => {
  const b = await kit.bundle({ args: ["sleep", "100"] });
  let placed = 0;
  await assert.rejects(
    kit.runtime.create({
      ...b,
      tty: false,
      stdin: false,
      stdinOnce: false,
      placeConmon: async (pid) => {
        placed = pid;
        throw new Error("no such cgroup");
      },
    }),
    /no such cgroup/,
  );
  assert.ok(placed > 0);
  await waitFor("the spawned conmon to go", async () => !(await processAlive(placed)));
});

test("update changes the container's memory limit", async () => {
  const rec = await kit.run({ args: ["sleep", "100"], memoryLimit: 64 * 1024 * 1024 });
  const file = `/sys/fs/cgroup/memory${kit.cgroupParent}/${rec.id}/memory.limit_in_bytes`;
  assert.equal((await readFile(file, "utf8")).trim(), String(64 * 1024 * 1024));
  await kit.runtime.update(rec.id, { memory: { limit: 96 * 1024 * 1024, swap: 96 * 1024 * 1024 } });
  assert.equal((await readFile(file, "utf8")).trim(), String(96 * 1024 * 1024));
  await assert.rejects(kit.runtime.update(rec.id, { memory: { limit: 1 } }), (e: unknown) => e instanceof BerthError && /runc update/.test(e.message));
  await kit.runtime.pause(rec.id);
  assert.equal((await kit.runtime.state(rec.id)).status, "paused");
  await kit.runtime.resume(rec.id);
  assert.equal((await kit.runtime.state(rec.id)).status, "running");
  await kit.runtime.delete(rec.id, { force: true });
});

test("a restarted Berth adopts a running container: conmon alive, stop works, exit is recovered", async () => {
  const rec = await kit.run({ args: ["sleep", "100"] });
  const stored = JSON.parse(JSON.stringify(rec)) as typeof rec;
  // A second runtime over the same state dir stands in for the restarted daemon.
  const again = await OciRuntime.open({ stateDir: join(kit.dir, "state"), runcPath: "runc", conmonPath: "conmon" });
  kit.runtimes.push(again);
  const report = await again.adopt(stored);
  assert.deepEqual(report, { conmonAlive: true, processAlive: true, exit: undefined, oomKilled: false });
  const e = await again.stop(rec.id, "SIGTERM", 200);
  assert.equal(e.code, 137);
  await waitFor("conmon to exit", async () => !(await processAlive(rec.conmonPid, rec.conmonStartTime)));
  const later = await again.inspect(stored);
  assert.equal(later.conmonAlive, false);
  assert.equal(later.exit?.code, 137);
  // A reused pid with another start time is not the container.
  assert.equal((await again.inspect({ ...stored, conmonStartTime: "1" })).conmonAlive, false);
  await again.delete(rec.id);
});

test("an unknown id is NOT_FOUND for state and a no-op for delete", async () => {
  await assert.rejects(kit.runtime.state("nope"), (e: unknown) => e instanceof BerthError && e.code === Code.NOT_FOUND);
  await kit.runtime.delete("nope");
  await assert.rejects(kit.runtime.oomKilled("nope"), (e: unknown) => e instanceof BerthError && e.code === Code.FAILED_PRECONDITION);
});

test("missing binaries are reported when the runtime opens", async () => {
  await assert.rejects(
    OciRuntime.open({ stateDir: join(kit.dir, "state2"), runcPath: "runc", conmonPath: "/nonexistent/conmon" }),
    (e: unknown) => e instanceof BerthError && e.code === Code.FAILED_PRECONDITION && /conmon_path/.test(e.message),
  );
});
