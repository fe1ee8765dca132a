// Exec and Attach end to end through Berth's own SPDY client against the real daemon, runc and
// conmon: exit codes, stdin, large transfers both ways, tty with resize, tokens, many sessions, leaks.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { status as grpc, type ServiceError } from "@grpc/grpc-js";
import { ctrEnv, ctrStatus, runCtr, sharedRegistry, waitState, type Registry } from "./containers-kit.js";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { readdir } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { ContainerState } from "../../src/generated/runtime/v1/api.js";
import { dialSpdy, type UpgradeRefusedError } from "../../src/streaming/spdy/dial.js";
import { attachUrl, execUrl, session, SizeQueue, startSession, until } from "./streaming-kit.js";

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

test("exec with stdin: every round's stdin reaches its end (cat sees EOF) and the exit code comes back, 20 x 300 KB and 4 MB", async (t) => {
  // Regression: a few hundred KB of stdin once left `cat` waiting for an EOF that never came,
  // about one round in four (the half-close reached conmon while its buffer still held data).
  const env = await ctrEnv(t, r);
  const { id } = await runCtr(env, SLEEPER);
  const sizes = [...Array.from({ length: 20 }, () => 300 * 1024), 4 * 1024 * 1024];
  for (const [round, size] of sizes.entries()) {
    const data = randomBytes(size);
    const running = startSession(await execUrl(env.d, { containerId: id, cmd: ["sh", "-c", "cat; echo done >&2; exit 3"], stdin: true }), { stdin: data });
    // A hang is this bug's failure: report which round, not a test-runner timeout.
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`round ${round} (${size} bytes): no end after 60 s; ${running.stdout.length} bytes came back`)), 60_000);
    });
    const result = await Promise.race([running.done, stuck]).finally(() => clearTimeout(timer));
    assert.deepEqual(result, { exitCode: 3 }, `round ${round}`);
    assert.equal(running.stdout.length, size, `round ${round}`);
    assert.ok(running.stdout.bytes().equals(data), `round ${round}: stdout differs from stdin`);
    assert.equal(running.stderr.text(), "done\n", `round ${round}`);
  }
});

test("exec: 10 MB through cat's stdin and back, intact", async (t) => {
  const env = await ctrEnv(t, r);
  const { id } = await runCtr(env, SLEEPER);
  const data = randomBytes(10 * 1024 * 1024);
  // One 10 MB chunk: stdin ends while its last packets are still being written to conmon, and the
  // half-close must wait for them (it once cut ~50 KB off the end).
  const input = Readable.from([data]);
  const ran = await session(await execUrl(env.d, { containerId: id, cmd: ["cat"], stdin: true }), { stdin: input });
  assert.deepEqual(ran.result, { exitCode: 0 });
  assert.equal(ran.stdout.length, data.length);
  assert.equal(createHash("sha256").update(ran.stdout.bytes()).digest("hex"), createHash("sha256").update(data).digest("hex"));
});

test("exec -t: stty size sees the client's terminal size and each resize", async (t) => {
  const env = await ctrEnv(t, r);
  const { id } = await runCtr(env, SLEEPER);
  const sizes = new SizeQueue();
  sizes.push({ width: 111, height: 33 });
  const stdin = new PassThrough();
  const ran = startSession(await execUrl(env.d, { containerId: id, cmd: ["sh"], stdin: true, tty: true }), { stdin, tty: true, resizes: sizes });
  const out = (): string => ran.stdout.text();
  const ask = async (want: string): Promise<void> => {
    await until(`stty size shows ${want}`, async () => {
      stdin.write("stty size\n");
      await new Promise((res) => setTimeout(res, 150));
      return out().includes(`${want}\r\n`);
    });
  };
  await ask("33 111");
  sizes.push({ width: 132, height: 40 });
  await ask("40 132");
  stdin.end("exit 4\n");
  sizes.close();
  assert.deepEqual(await ran.done, { exitCode: 4 });
});

test("tokens: a bad, a reused and an expired token each get 404; handshake errors are 400 and 403", async (t) => {
  const env = await ctrEnv(t, r, { runtimeToml: `\n[streaming]\ntoken_ttl = "1s"` });
  const { id } = await runCtr(env, SLEEPER);
  const url = await execUrl(env.d, { containerId: id, cmd: ["true"] });
  assert.deepEqual((await session(url)).result, { exitCode: 0 });
  await assert.rejects(session(url), (e: UpgradeRefusedError) => e.status === 404 && e.body === "");
  const base = url.slice(0, url.lastIndexOf("/"));
  await assert.rejects(session(`${base}/AAAAAAAAAAAAAAAAAAAAAA`), (e: UpgradeRefusedError) => e.status === 404);
  const late = await execUrl(env.d, { containerId: id, cmd: ["true"] });
  await new Promise((res) => setTimeout(res, 1500));
  await assert.rejects(session(late), (e: UpgradeRefusedError) => e.status === 404);

  await assert.rejects(dialSpdy(await execUrl(env.d, { containerId: id, cmd: ["true"] }), { protocols: [] }), (e: UpgradeRefusedError) => e.status === 400);
  await assert.rejects(dialSpdy(await execUrl(env.d, { containerId: id, cmd: ["true"] }), { protocols: ["v9.channel.k8s.io"] }), (e: UpgradeRefusedError) =>
    e.status === 403 && /v4\.channel\.k8s\.io/.test(String(e.headers["x-accepted-stream-protocol-versions"])));
  // An exec URL is not an attach URL.
  const execToken = (await execUrl(env.d, { containerId: id, cmd: ["true"] })).split("/").pop();
  await assert.rejects(session(`${base.replace(/\/exec$/, "/attach")}/${execToken}`), (e: UpgradeRefusedError) => e.status === 404);
});

test("twenty concurrent exec sessions each get their own output and exit code", async (t) => {
  const env = await ctrEnv(t, r);
  const { id } = await runCtr(env, SLEEPER);
  const runs = await Promise.all(
    Array.from({ length: 20 }, async (_, i) => session(await execUrl(env.d, { containerId: id, cmd: ["sh", "-c", `echo session-${i}; exit ${i}`] }))),
  );
  runs.forEach((ran, i) => {
    assert.deepEqual(ran.result, { exitCode: i });
    assert.equal(ran.stdout.text(), `session-${i}\n`);
  });
});

test("attach: to a tty container and to a non-tty one; leaving keeps them running", async (t) => {
  const env = await ctrEnv(t, r);
  const tty = await runCtr(env, { command: ["sh"], tty: true, stdin: true });
  const stdin = new PassThrough();
  let abort: () => void = () => undefined;
  const sizes = new SizeQueue();
  sizes.push({ width: 101, height: 31 });
  const ran = startSession(await attachUrl(env.d, { containerId: tty.id, stdin: true, tty: true }), { stdin, tty: true, resizes: sizes, onReady: (a) => (abort = a) });
  const out = (): string => ran.stdout.text();
  await until("the attached shell answers", async () => {
    stdin.write("echo in-tty-$((6*7))\n");
    await new Promise((res) => setTimeout(res, 150));
    return out().includes("in-tty-42");
  });
  // The container's own terminal follows the client's size (conmon's ctl fifo).
  await until("stty size in the container shows 31 101", async () => {
    stdin.write("stty size\n");
    await new Promise((res) => setTimeout(res, 150));
    return out().includes("31 101\r\n");
  });
  sizes.close();
  abort();
  await ran.done;

  const plain = await runCtr(env, { command: ["sh", "-c", "while read l; do echo out:$l; echo err:$l >&2; done"], stdin: true });
  const pin = new PassThrough();
  let abort2: () => void = () => undefined;
  const ran2 = startSession(await attachUrl(env.d, { containerId: plain.id, stdin: true, stdout: true, stderr: true }), { stdin: pin, onReady: (a) => (abort2 = a) });
  const out2 = (): string => ran2.stdout.text();
  const err2 = (): string => ran2.stderr.text();
  await until("the non-tty container answers on both streams", async () => {
    pin.write("x\n");
    await new Promise((res) => setTimeout(res, 150));
    return out2().includes("out:x") && err2().includes("err:x");
  });
  abort2();
  await ran2.done;
  for (const c of [tty.id, plain.id]) assert.equal((await ctrStatus(env.d, c)).status?.state, ContainerState.CONTAINER_RUNNING);
});

test("hostile clients: one that vanishes mid-exec, one that never reads, one that sends garbage: nothing left behind", async (t) => {
  const env = await ctrEnv(t, r);
  const { id } = await runCtr(env, SLEEPER);
  const execDir = join(env.d.state, "exec");

  // Vanishes while `sleep` runs with stdin open.
  let abort: () => void = () => undefined;
  const gone = startSession(await execUrl(env.d, { containerId: id, cmd: ["sleep", "3600"], stdin: true }), { stdin: new PassThrough(), onReady: (a) => (abort = a) });
  await until("the exec session runs", async () => (await readdir(execDir)).length === 1);
  abort();
  assert.ok("error" in (await gone.done));
  await until("the exec's conmon and files are gone", async () => (await readdir(execDir)).length === 0);

  // Never reads an endless output: the server gives up at its buffer cap and ends the session.
  const { conn } = await dialSpdy(await execUrl(env.d, { containerId: id, cmd: ["yes"] }), { protocols: ["v4.channel.k8s.io"] });
  const err = await conn.openStream({ streamtype: "error" });
  const out = await conn.openStream({ streamtype: "stdout" });
  await conn.openStream({ streamtype: "stderr" });
  out.pause();
  err.pause();
  await until("the endless exec runs", async () => (await readdir(execDir)).length === 1);
  // The server holds at most its cap (16 MiB), then kills the exec and drops the connection.
  await until("the endless exec was killed and cleaned up", async () => (await readdir(execDir)).length === 0, 60_000);
  assert.match(env.d.logs(), /exec client stopped reading its output/);
  conn.destroy();

  // Garbage after a proper upgrade: the connection is dropped, the daemon carries on.
  await garbage(await execUrl(env.d, { containerId: id, cmd: ["true"] }));
  assert.deepEqual((await session(await execUrl(env.d, { containerId: id, cmd: ["echo", "still fine"] }))).stdout.text(), "still fine\n");
});

/** Upgrades by hand, then writes bytes that are not SPDY; resolves when the server hangs up. */
async function garbage(url: string): Promise<void> {
  const u = new URL(url);
  const s = connect(Number(u.port), u.hostname);
  await once(s, "connect");
  s.write(`POST ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n`);
  s.write(randomBytes(4096));
  s.resume();
  await once(s, "close");
}


test("attach with stdin_once: the client's EOF closes the container's stdin, so cat exits", async (t) => {
  const env = await ctrEnv(t, r);
  const { id } = await runCtr(env, { command: ["cat"], stdin: true, stdinOnce: true });
  const ran = await session(await attachUrl(env.d, { containerId: id, stdin: true }), { stdin: "once only\n" });
  assert.deepEqual(ran.result, { exitCode: 0 });
  assert.equal(ran.stdout.text(), "once only\n");
  await waitState(env.d, id, ContainerState.CONTAINER_EXITED);
});

test("attach with stdin_once and 300 KB of stdin: the EOF still gets through, cat exits (5 containers)", async (t) => {
  // The same stdin path as exec: the FIN must not be lost behind a reader that fell behind.
  const env = await ctrEnv(t, r);
  for (let round = 0; round < 5; round++) {
    const { id } = await runCtr(env, { command: ["cat"], stdin: true, stdinOnce: true });
    const data = randomBytes(300 * 1024);
    const running = startSession(await attachUrl(env.d, { containerId: id, stdin: true }), { stdin: data });
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`round ${round}: no end after 60 s; ${running.stdout.length} bytes came back`)), 60_000);
    });
    const result = await Promise.race([running.done, stuck]).finally(() => clearTimeout(timer));
    assert.deepEqual(result, { exitCode: 0 }, `round ${round}`);
    assert.ok(running.stdout.bytes().equals(data), `round ${round}: stdout differs from stdin`);
    await waitState(env.d, id, ContainerState.CONTAINER_EXITED);
  }
});

test("daemon shutdown with an exec session open leaves no exec process behind", async (t) => {
  const env = await ctrEnv(t, r);
  const { id } = await runCtr(env, SLEEPER);
  const running = startSession(await execUrl(env.d, { containerId: id, cmd: ["sleep", "3600"], stdin: true }), { stdin: new PassThrough() });
  const execDir = join(env.d.state, "exec");
  await until("the exec session runs", async () => (await readdir(execDir)).length === 1);
  await env.restart();
  assert.ok("error" in (await running.done));
  assert.deepEqual(await readdir(execDir), []);
});

test("streaming.address = \"\": no streaming server, Exec and Attach are FailedPrecondition", async (t) => {
  const env = await ctrEnv(t, r, { runtimeToml: `\n[streaming]\naddress = ""` });
  const { id } = await runCtr(env, SLEEPER);
  const precondition = (e: ServiceError) => e.code === grpc.FAILED_PRECONDITION && /streaming server is disabled/.test(e.details);
  await assert.rejects(execUrl(env.d, { containerId: id, cmd: ["true"] }), precondition);
  await assert.rejects(attachUrl(env.d, { containerId: id }), precondition);
});
