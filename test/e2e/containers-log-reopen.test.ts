// ReopenContainerLog without kubelet's rename first must not drop a line (conmon's own reopen
// truncates): 6 lines before, 3 after, all 9 kept; a foreign file at the log path is never replaced.
import assert from "node:assert/strict";
import { readFile, rename, writeFile } from "node:fs/promises";
import { after, before, test } from "node:test";
import { status as grpc, type ServiceError } from "@grpc/grpc-js";
import { call } from "../../src/cli/client.js";
import { removePod } from "./pods-kit.js";
import { ctrEnv, ctrStatus, exec, logLines, runCtr, sharedRegistry, waitLog, type Registry } from "./containers-kit.js";

let r: Registry & { stop(): Promise<void> };
before(async () => {
  r = await sharedRegistry();
});
after(async () => {
  await r.stop();
});

const script = (tag: string) =>
  `for i in 1 2 3 4 5 6; do echo ${tag}-before-$i; done; while [ ! -f /tmp/go ]; do sleep 0.05; done; for i in 1 2 3; do echo ${tag}-after-$i; done; exec sleep 1000`;

test("ReopenContainerLog without a rename first keeps every line (6 before, 3 after)", async (t) => {
  const env = await ctrEnv(t, r);
  const { d } = env;
  const c = d.client;
  const { podId, id } = await runCtr(env, { name: "norename", command: ["sh", "-c", script("x")] });
  const log = (await ctrStatus(d, id)).status!.logPath;
  await waitLog(log, /x-before-6\n/);
  await call(c, c.runtime, c.runtime.reopenContainerLog, { containerId: id });
  await call(c, c.runtime, c.runtime.reopenContainerLog, { containerId: id });
  await exec(d, id, ["touch", "/tmp/go"]);
  await waitLog(log, /x-after-3\n/);
  const want = [1, 2, 3, 4, 5, 6].map((i) => `x-before-${i}`).concat([1, 2, 3].map((i) => `x-after-${i}`));
  assert.deepEqual((await logLines(log)).map((l) => l[2]), want);

  // Rotation as kubelet does it still works after that.
  await rename(log, `${log}.1`);
  await call(c, c.runtime, c.runtime.reopenContainerLog, { containerId: id });
  await exec(d, id, ["sh", "-c", "echo x-rotated > /proc/1/fd/1"]);
  await waitLog(log, /x-rotated\n/);
  assert.deepEqual((await logLines(`${log}.1`)).map((l) => l[2]), want);

  // A file that is not conmon's at the path is refused, not replaced.
  const { podId: podId2, id: other } = await runCtr(env, { name: "foreign", command: ["sh", "-c", script("y")] });
  const log2 = (await ctrStatus(d, other)).status!.logPath;
  await waitLog(log2, /y-before-6\n/);
  await rename(log2, `${log2}.1`);
  await writeFile(log2, "someone else's line\n");
  await assert.rejects(call(c, c.runtime, c.runtime.reopenContainerLog, { containerId: other }), (e: ServiceError) => e.code === grpc.FAILED_PRECONDITION && /move it away/.test(e.details));
  assert.equal(await readFile(log2, "utf8"), "someone else's line\n");
  await removePod(d, podId);
  await removePod(d, podId2);
  await env.leaks.assertNoLeaks();
});
