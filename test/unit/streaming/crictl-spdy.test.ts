// crictl 1.26.1 (client-go's SPDY executor on moby/spdystream) against Berth's SPDY server with a
// fake CRI (Version and Exec) and a fake backend: Go's own bytes on the wire, checked frame by frame.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServerCredentials, type sendUnaryData, type ServerUnaryCall } from "@grpc/grpc-js";
import type { ExecRequest, ExecResponse, VersionResponse } from "../../../src/generated/runtime/v1/api.js";
import { createCriServer } from "../../../src/server/grpc.js";
import { authorityFixingDuplex } from "../../../src/h2-front/index.js";
import { serveRemoteCommand } from "../../../src/streaming/remotecommand/route.js";
import type { SessionBackend } from "../../../src/streaming/remotecommand/session.js";
import { StreamingServer } from "../../../src/streaming/server.js";
import { HeaderCodec } from "../../../src/streaming/spdy/header-block.js";
import { FrameParser } from "../../../src/streaming/spdy/parser.js";
import { crictlOrSkip } from "../../fixtures/crictl.js";

interface Fake {
  socket: string;
  /** Everything crictl sent on its streaming connections (after the HTTP request head). */
  wire: Buffer[];
}

async function fakeRuntime(t: TestContext, backend: SessionBackend): Promise<Fake> {
  const streaming = await StreamingServer.start({ address: "127.0.0.1:0", idleTimeoutMs: 0, tokenTtlMs: 60_000, maxSessions: 10 });
  const wire: Buffer[] = [];
  streaming.route("exec", (req, ctx) => {
    const chunks: Buffer[] = [ctx.head];
    ctx.socket.on("data", (d: Buffer) => chunks.push(d));
    wire.push(Buffer.alloc(0));
    const i = wire.length - 1;
    ctx.socket.on("close", () => (wire[i] = Buffer.concat(chunks)));
    return serveRemoteCommand(ctx, { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, tty: req.tty }, backend);
  });
  const server = createCriServer({
    runtime: {
      version: (_call: unknown, cb: sendUnaryData<VersionResponse>) => cb(null, { version: "0.1.0", runtimeName: "fake", runtimeVersion: "0", runtimeApiVersion: "v1" }),
      exec: (call: ServerUnaryCall<ExecRequest, ExecResponse>, cb: sendUnaryData<ExecResponse>) => cb(null, { url: streaming.issue("exec", call.request) }),
    },
    image: {},
  });
  const dir = await mkdtemp(join(tmpdir(), "berth-crictl-spdy-"));
  const socket = join(dir, "cri.sock");
  const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
  const sockets: net.Socket[] = [];
  const listener = net.createServer((s) => {
    sockets.push(s);
    injector.injectConnection(authorityFixingDuplex(s));
  });
  await new Promise<void>((res) => listener.listen(socket, res));
  t.after(async () => {
    injector.destroy();
    server.forceShutdown();
    for (const s of sockets) s.destroy();
    await new Promise((res) => listener.close(res));
    await streaming.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { socket, wire };
}

function crictl(bin: string, socket: string, args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = execFile(bin, ["--runtime-endpoint", `unix://${socket}`, "--timeout", "20s", ...args], (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
    p.stdin?.end(stdin ?? "");
  });
}

test("crictl exec -i: Go's SYN_STREAMs decode (same dictionary, FDICT), stdin arrives, output and exit code go back", async (t) => {
  const bin = crictlOrSkip(t);
  if (!bin) return;
  const fake = await fakeRuntime(t, async (s) => {
    const chunks: Buffer[] = [];
    for await (const c of s.stdin!) chunks.push(c as Buffer);
    s.stdout!.write(`go said: ${Buffer.concat(chunks).toString()}`);
    s.stderr!.write("to stderr\n");
    return { exitCode: 42 };
  });
  const r = await crictl(bin, fake.socket, ["exec", "-i", "some-container", "cmd"], "hello from Go\n");
  assert.equal(r.stdout, "go said: hello from Go\n");
  assert.match(r.stderr, /to stderr\n/);
  assert.match(r.stderr, /command terminated with exit code 42/);
  assert.notEqual(r.code, 0);

  // Go's frames as it sent them.
  await new Promise((res) => setTimeout(res, 50));
  const wire = fake.wire[0]!;
  const parser = new FrameParser(1 << 20);
  parser.append(wire);
  const codec = new HeaderCodec({ maxHeaderBytes: 1 << 16, maxHeaderPairs: 64 });
  const syns: Array<{ id: number; type: string; priority: number }> = [];
  let firstBlock: Buffer | undefined;
  let stdinBytes = "";
  let stdinFin = false;
  for (let it = parser.next(); it; it = parser.next()) {
    if (it.kind === "data") {
      if (it.streamId === syns.find((s) => s.type === "stdin")?.id) {
        stdinBytes += it.chunk.toString();
        stdinFin ||= it.fin;
      }
      continue;
    }
    if (it.type === 1) {
      const block = it.payload.subarray(10);
      firstBlock ??= block;
      const headers = await codec.decompress(block);
      syns.push({ id: it.payload.readUInt32BE(0), type: headers["streamtype"] ?? "", priority: it.payload[8]! >> 5 });
    }
  }
  codec.close();
  // client-go opens error first, then stdin, stdout, stderr; odd ids from 1.
  assert.deepEqual(syns.map((s) => [s.id, s.type]), [[1, "error"], [3, "stdin"], [5, "stdout"], [7, "stderr"]]);
  // Go's zlib writer: best compression, the SPDY/3 dictionary (FDICT) with the Adler-32 we pin.
  assert.equal(firstBlock!.subarray(0, 6).toString("hex"), "78f9e3c6a7c2");
  assert.equal(stdinBytes, "hello from Go\n");
  assert.ok(stdinFin, "stdin's end arrives as a DATA frame with FIN");
});

test("crictl exec -it on a terminal (script): the tty session with its resize stream runs", async (t) => {
  const bin = crictlOrSkip(t);
  if (!bin) return;
  let sawResizeStream = false;
  const fake = await fakeRuntime(t, async (s) => {
    sawResizeStream = s.tty;
    s.stdout!.write("tty ok\r\n");
    return { exitCode: 0 };
  });
  // Without a terminal on stdin crictl refuses -t; `script` gives it one.
  const r = await new Promise<{ code: number; out: string }>((resolve) => {
    execFile("script", ["-qec", `${bin} --runtime-endpoint unix://${fake.socket} --timeout 20s exec -it c cmd`, "/dev/null"], (err, stdout) =>
      resolve({ code: err ? 1 : 0, out: stdout }),
    );
  });
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /tty ok/);
  assert.ok(sawResizeStream);
});
