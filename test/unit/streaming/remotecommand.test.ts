// remotecommand pieces without a container: the v4 Status objects client-go decodes, the resize
// stream decoder, and a whole SPDY session through the streaming server with a fake backend.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { decodeStatus, runRemoteCommand } from "../../../src/streaming/remotecommand/client.js";
import { ResizeDecoder } from "../../../src/streaming/remotecommand/resize.js";
import { serveRemoteCommand } from "../../../src/streaming/remotecommand/route.js";
import type { SessionBackend, TerminalSize } from "../../../src/streaming/remotecommand/session.js";
import { statusV4 } from "../../../src/streaming/remotecommand/status.js";
import { StreamingServer, type StreamingServerOptions } from "../../../src/streaming/server.js";
import { dialSpdy, UpgradeRefusedError } from "../../../src/streaming/spdy/dial.js";
import { ExecRequest } from "../../../src/generated/runtime/v1/api.js";
import { makeCA, makeLeaf } from "../../fixtures/pki.js";

test("v4 Status: Success, NonZeroExitCode with an ExitCode cause, InternalError", () => {
  assert.equal(statusV4({ exitCode: 0 }), '{"metadata":{},"status":"Success"}');
  const fail = JSON.parse(statusV4({ exitCode: 3 })) as Record<string, unknown>;
  assert.equal(fail["status"], "Failure");
  assert.equal(fail["reason"], "NonZeroExitCode");
  assert.deepEqual(fail["details"], { causes: [{ reason: "ExitCode", message: "3" }] });
  const internal = JSON.parse(statusV4({ error: "boom" })) as Record<string, unknown>;
  assert.equal(internal["reason"], "InternalError");
  assert.equal(internal["code"], 500);
  assert.deepEqual(decodeStatus(statusV4({ exitCode: 3 })), { exitCode: 3 });
  assert.deepEqual(decodeStatus(statusV4({ error: "boom" })), { error: "Internal error occurred: boom" });
  // The cri-streaming copy omits metadata.
  assert.deepEqual(decodeStatus('{"status":"Success"}'), { exitCode: 0 });
});

test("resize decoder: Go json.Encoder lines, split anywhere; bad lines skipped", () => {
  const d = new ResizeDecoder();
  assert.deepEqual(d.push(Buffer.from('{"Width":80,"Hei')), []);
  assert.deepEqual(d.push(Buffer.from('ght":24}\n{"Width":-1,"Height":2}\nnot json\n{"Width":132,"Height":40}\n')), [
    { width: 80, height: 24 },
    { width: 132, height: 40 },
  ]);
  assert.deepEqual(d.push(Buffer.from('{"Width":10,"Height":5}')), [{ width: 10, height: 5 }]);
});

class Sink extends Writable {
  text = "";
  override _write(c: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.text += c.toString();
    cb();
  }
}

async function server(t: TestContext, backend: SessionBackend, o: Partial<StreamingServerOptions> = {}): Promise<StreamingServer> {
  const s = await StreamingServer.start({ address: "127.0.0.1:0", idleTimeoutMs: 0, tokenTtlMs: 60_000, maxSessions: 10, ...o });
  t.after(() => s.close());
  s.route("exec", (req, ctx) => serveRemoteCommand(ctx, { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, tty: req.tty }, backend));
  return s;
}

const req = (o: Partial<ExecRequest> = {}): ExecRequest => ExecRequest.fromPartial({ containerId: "c", cmd: ["x"], stdin: true, stdout: true, stderr: true, ...o });

test("a session end to end: stdin in, stdout and stderr out, exit code back", async (t) => {
  const s = await server(t, async (session) => {
    const chunks: Buffer[] = [];
    for await (const c of session.stdin!) chunks.push(c as Buffer);
    session.stdout!.write(`out:${Buffer.concat(chunks).toString()}`);
    session.stderr!.write("err");
    return { exitCode: 9 };
  });
  const stdin = new PassThrough();
  stdin.end("hello");
  const stdout = new Sink();
  const stderr = new Sink();
  const result = await runRemoteCommand(s.issue("exec", req()), { stdin, stdout, stderr });
  assert.deepEqual(result, { exitCode: 9 });
  assert.equal(stdout.text, "out:hello");
  assert.equal(stderr.text, "err");
});

test("tty: the resize stream reaches the backend as size events", async (t) => {
  const seen: TerminalSize[] = [];
  const s = await server(t, async (session) => {
    await new Promise<void>((resolve) => session.events.on("resize", (sz) => (seen.push(sz), seen.length === 2 && resolve())));
    return { exitCode: 0 };
  });
  async function* sizes(): AsyncIterable<TerminalSize> {
    yield { width: 80, height: 24 };
    yield { width: 100, height: 50 };
  }
  const result = await runRemoteCommand(s.issue("exec", req({ tty: true, stderr: false, stdin: false })), { stdout: new Sink(), tty: true, resizes: sizes() });
  assert.deepEqual(result, { exitCode: 0 });
  assert.deepEqual(seen, [{ width: 80, height: 24 }, { width: 100, height: 50 }]);
});

test("a backend error is an InternalError status", async (t) => {
  const s = await server(t, async () => {
    throw new Error("conmon is on fire");
  });
  assert.deepEqual(await runRemoteCommand(s.issue("exec", req({ stdin: false })), { stdout: new Sink(), stderr: new Sink() }), {
    error: "Internal error occurred: conmon is on fire",
  });
});

test("the session cap answers 503; a client that disappears is reported to the backend as gone", async (t) => {
  let goneSeen!: () => void;
  const gone = new Promise<void>((r) => (goneSeen = r));
  const s = await server(
    t,
    async (session) => {
      await new Promise<void>((r) => session.events.once("gone", r));
      goneSeen();
      return { exitCode: 0 };
    },
    { maxSessions: 1 },
  );
  const first = await dialSpdy(s.issue("exec", req({ stdin: false, stderr: false })), { protocols: ["v4.channel.k8s.io"] });
  await first.conn.openStream({ streamtype: "error" });
  await first.conn.openStream({ streamtype: "stdout" });
  await assert.rejects(dialSpdy(s.issue("exec", req()), { protocols: ["v4.channel.k8s.io"] }), (e: UpgradeRefusedError) => e.status === 503);
  first.conn.destroy();
  await gone;
});

test("the idle timeout closes a connection that carries nothing", async (t) => {
  const s = await server(t, (session) => new Promise((r) => session.events.once("gone", () => r({ exitCode: 0 }))), { idleTimeoutMs: 200 });
  const { conn } = await dialSpdy(s.issue("exec", req({ stdin: false, stderr: false })), { protocols: ["v4.channel.k8s.io"] });
  await conn.openStream({ streamtype: "error" });
  await conn.openStream({ streamtype: "stdout" });
  await new Promise<void>((r) => conn.once("close", () => r()));
});

test("TLS with a client CA: a client without a certificate is refused, one with a signed certificate gets through", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berth-stream-tls-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ca = await makeCA(dir);
  const srv = await makeLeaf(ca, "server", { sans: ["IP:127.0.0.1"] });
  const cli = await makeLeaf(ca, "client", { usage: "client" });
  const s = await server(t, async (session) => {
    session.stdout!.write("secret");
    return { exitCode: 0 };
  }, { tls: { certFile: srv.certPath, keyFile: srv.keyPath, clientCaFile: ca.certPath } });
  assert.match(s.baseUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
  await assert.rejects(runRemoteCommand(s.issue("exec", req({ stdin: false, stderr: false })), { stdout: new Sink(), tls: { ca: ca.certPem } }));
  const out = new Sink();
  const result = await runRemoteCommand(s.issue("exec", req({ stdin: false, stderr: false })), { stdout: out, tls: { ca: ca.certPem, cert: cli.certPem, key: cli.keyPem } });
  assert.deepEqual(result, { exitCode: 0 });
  assert.equal(out.text, "secret");
});
