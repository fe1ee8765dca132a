// End-to-end tests of the :authority-fixing Duplex in front of a real grpc-js server: the real Go
// client (crictl 1.26.1, grpc-go 1.51) and a grpc-js client, over a unix socket.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { Server, ServerCredentials, credentials, type ServiceError, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { RuntimeServiceClient, RuntimeServiceService, type VersionResponse } from "../../../src/generated/runtime/v1/api.js";
import { unimplementedService } from "../../../src/server/unimplemented.js";
import { authorityFixingDuplex } from "../../../src/h2-front/index.js";

import { crictlOrSkip } from "../../fixtures/crictl.js";

let CRICTL = "";

interface Served {
  path: string;
  calls: string[];
  sockets: net.Socket[];
  server: Server;
}

/** A grpc-js server with Version and StopPodSandbox, injected connections from `net` on a temp socket. */
async function serve(t: TestContext, fix: boolean): Promise<Served> {
  const dir = await mkdtemp(join(tmpdir(), "berth-h2a-"));
  const path = join(dir, "berth.sock");
  const calls: string[] = [];
  const sockets: net.Socket[] = [];
  const server = new Server();
  server.addService(RuntimeServiceService, {
    ...unimplementedService(RuntimeServiceService),
    version: (call: { request: { version: string } }, cb: (e: null, r: VersionResponse) => void) => {
      calls.push("version");
      // Echo the request so large messages travel both ways.
      cb(null, { version: call.request.version || "0.1.0", runtimeName: "berth", runtimeVersion: "0.1.0", runtimeApiVersion: "v1" });
    },
    stopPodSandbox: (call: { request: { podSandboxId: string } }, cb: (e: null, r: object) => void) => {
      calls.push(`stop ${call.request.podSandboxId}`);
      cb(null, {});
    },
  } as UntypedServiceImplementation);
  const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
  const listener = net.createServer((sock) => {
    sockets.push(sock);
    injector.injectConnection(fix ? authorityFixingDuplex(sock) : sock);
  });
  await new Promise<void>((res) => listener.listen(path, res));
  t.after(async () => {
    injector.destroy();
    server.forceShutdown();
    for (const s of sockets) s.destroy();
    await new Promise((res) => listener.close(res));
    await rm(dir, { recursive: true, force: true });
  });
  return { path, calls, sockets, server };
}

function crictl(path: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(CRICTL, ["--runtime-endpoint", `unix://${path}`, "--timeout", "10s", ...args], (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

test("crictl 1.26.1 (grpc-go 1.51, :authority = socket path) works through the Duplex", async (t) => {
  const found = crictlOrSkip(t);
  if (!found) return;
  CRICTL = found;
  // Without the Duplex: the bug, every call refused by nghttp2.
  const raw = await serve(t, false);
  const bad = await crictl(raw.path, "version");
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /RST_STREAM with error code: PROTOCOL_ERROR/);
  assert.deepEqual(raw.calls, []);

  const s = await serve(t, true);
  for (let i = 0; i < 3; i++) {
    const r = await crictl(s.path, "version");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /RuntimeName:\s+berth/);
  }
  // One connection: Version, then three StopPodSandbox calls naming :authority by table index.
  const before = s.sockets.length;
  const r = await crictl(s.path, "stopp", "a", "b", "c");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "Stopped sandbox a\nStopped sandbox b\nStopped sandbox c\n");
  assert.equal(s.sockets.length, before + 1);
  assert.deepEqual(s.calls.slice(-3), ["stop a", "stop b", "stop c"]);
});

test("a grpc-js client works through the Duplex: many calls on one connection, large messages both ways", async (t) => {
  const s = await serve(t, true);
  const client = new RuntimeServiceClient(`unix://${s.path}`, credentials.createInsecure());
  t.after(() => client.close());
  const version = (v: string) =>
    new Promise<VersionResponse>((res, rej) => client.version({ version: v }, (e: ServiceError | null, r) => (e ? rej(e) : res(r))));
  for (let i = 0; i < 50; i++) assert.equal((await version(`v${i}`)).version, `v${i}`);
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => version(`p${i}`)));
  assert.deepEqual(
    results.map((r) => r.version),
    Array.from({ length: 20 }, (_, i) => `p${i}`),
  );
  // 3 MiB each way: many DATA frames, flow control and backpressure through the Duplex.
  const big = "x".repeat(3 * 1024 * 1024);
  assert.equal((await version(big)).version.length, big.length);
  assert.equal(s.sockets.length, 1);
});

test("closing either side closes the other", async (t) => {
  const s = await serve(t, true);
  const client = new RuntimeServiceClient(`unix://${s.path}`, credentials.createInsecure());
  await new Promise<void>((res, rej) => client.version({ version: "" }, (e: ServiceError | null) => (e ? rej(e) : res())));
  const sock = s.sockets[0];
  assert.ok(sock);
  client.close(); // the client goes away: the accepted socket must close too
  for (let i = 0; i < 300 && !sock.destroyed; i++) await delay(10);
  assert.ok(sock.destroyed, "server-side socket closed after the client left");

  // The server goes away: grpc-js ends its session, which must end the client's socket.
  const s2 = await serve(t, true);
  const c = net.connect(s2.path);
  const closed = new Promise<void>((res) => c.on("close", () => res()));
  c.on("error", () => {});
  c.resume(); // read to the end, so the client closes its side when the server ends
  c.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  for (let i = 0; i < 100 && s2.sockets.length === 0; i++) await delay(10);
  s2.server.forceShutdown();
  await closed;
  const sock2 = s2.sockets[0];
  assert.ok(sock2);
  for (let i = 0; i < 300 && !sock2.destroyed; i++) await delay(10);
  assert.ok(sock2.destroyed, "server-side socket closed after the server shut down");
});
