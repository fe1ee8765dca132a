// Containers end to end against the real daemon, runc, conmon, CNI and a registry: command, env,
// workdir and user from the image and the CRI config; exit codes and reasons; status and list.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ContainerState } from "../../src/generated/runtime/v1/api.js";
import { ctrEnv, ctrStatus, exec, listCtrs, logText, removeCtr, runCtr, sharedRegistry, stopCtr, waitLog, waitState, type Registry } from "./containers-kit.js";

let r: Registry & { stop(): Promise<void> };
before(async () => {
  r = await sharedRegistry({ rich: true });
});
after(async () => {
  await r.stop();
});

test("a busybox container runs its command; logs, exec, stop and remove work", async (t) => {
  const env = await ctrEnv(t, r);
  const { d } = env;
  const { id } = await runCtr(env, { command: ["sh", "-c", "echo hello; echo oops >&2; exec sleep 1000"] });
  assert.match(id, /^[0-9a-f]{64}$/);
  const s = await waitState(d, id, ContainerState.CONTAINER_RUNNING);
  await waitLog(s.status!.logPath, /hello\noops\n/);
  const e = await exec(d, id, ["sh", "-c", "echo out; echo err >&2; exit 3"]);
  assert.equal(e.exitCode, 3);
  assert.equal(e.stdout.toString(), "out\n");
  assert.equal(e.stderr.toString(), "err\n");
  await stopCtr(d, id, 1n);
  const st = await ctrStatus(d, id);
  assert.equal(st.status!.state, ContainerState.CONTAINER_EXITED);
  assert.equal(st.status!.exitCode, 137, "sleep as PID 1 ignores SIGTERM: SIGKILL after the timeout");
  assert.equal(st.status!.reason, "Error");
  assert.equal((await listCtrs(d)).length, 1);
  await removeCtr(d, id);
  await removeCtr(d, id);
  assert.equal((await listCtrs(d)).length, 0);
  void logText;
});
