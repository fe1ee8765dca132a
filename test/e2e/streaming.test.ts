// Exec and Attach end to end through Berth's own SPDY client against the real daemon, runc and
// conmon: exit codes, stdin, large transfers both ways, tty with resize, tokens, many sessions, leaks.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { status as grpc, type ServiceError } from "@grpc/grpc-js";
import { ctrEnv, runCtr, sharedRegistry, type Registry } from "./containers-kit.js";
import { execUrl, session } from "./streaming-kit.js";

let r: Registry & { stop(): Promise<void> };
before(async () => {
  r = await sharedRegistry();
});
after(async () => {
  await r.stop();
});

const SLEEPER = { command: ["sleep", "3600"] };

test("exec: echo exits 0 with its output; a non-zero exit code and stderr come through", async (t) => {
  const env = await ctrEnv(t, r);
  const { id } = await runCtr(env, SLEEPER);
  const ok = await session(await execUrl(env.d, { containerId: id, cmd: ["echo", "hello"] }));
  assert.deepEqual(ok.result, { exitCode: 0 });
  assert.equal(ok.stdout.text(), "hello\n");
  const bad = await session(await execUrl(env.d, { containerId: id, cmd: ["sh", "-c", "echo oops >&2; exit 7"] }));
  assert.deepEqual(bad.result, { exitCode: 7 });
  assert.equal(bad.stderr.text(), "oops\n");
  assert.equal(bad.stdout.text(), "");
});

test("Exec validates: unknown container, tty with stderr, no streams, empty cmd", async (t) => {
  const env = await ctrEnv(t, r);
  const { id } = await runCtr(env, SLEEPER);
  const code = (c: number, re: RegExp) => (e: ServiceError) => e.code === c && re.test(e.details);
  await assert.rejects(execUrl(env.d, { containerId: "nope", cmd: ["true"] }), code(grpc.NOT_FOUND, /nope/));
  await assert.rejects(execUrl(env.d, { containerId: id, cmd: ["true"], tty: true, stderr: true }), code(grpc.INVALID_ARGUMENT, /tty and stderr/));
  await assert.rejects(execUrl(env.d, { containerId: id, cmd: ["true"], stdout: false, stderr: false }), code(grpc.INVALID_ARGUMENT, /at least one/));
  await assert.rejects(execUrl(env.d, { containerId: id, cmd: [] }), code(grpc.INVALID_ARGUMENT, /cmd is empty/));
});
