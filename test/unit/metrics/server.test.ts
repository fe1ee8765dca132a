// The scrape endpoint: GET/HEAD /metrics answers the registry, every other path is 404, other
// methods 405, any request with a body 413; close() ends kept-alive connections too.
import assert from "node:assert/strict";
import { request } from "node:http";
import { test } from "node:test";
import { Gauge, Registry } from "prom-client";
import { serveMetrics, splitAddress } from "../../../src/metrics/server.js";

function send(address: string, method: string, path: string, body?: string): Promise<{ status: number; text: string; type: string }> {
  const { host, port } = splitAddress(address);
  return new Promise((resolve, reject) => {
    const req = request({ host, port, method, path, headers: body === undefined ? {} : { "content-length": Buffer.byteLength(body) } }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text, type: String(res.headers["content-type"]) }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

test("splitAddress takes IPv4 and bracketed IPv6", () => {
  assert.deepEqual(splitAddress("127.0.0.1:9464"), { host: "127.0.0.1", port: 9464 });
  assert.deepEqual(splitAddress("[::1]:0"), { host: "::1", port: 0 });
});

test("only GET /metrics answers; the server closes", async () => {
  const r = new Registry();
  new Gauge({ name: "t_up", help: "up", registers: [r] }).set(1);
  const s = await serveMetrics("127.0.0.1:0", r);
  assert.match(s.address, /^127\.0\.0\.1:\d+$/);
  const ok = await send(s.address, "GET", "/metrics?x=1");
  assert.equal(ok.status, 200);
  assert.match(ok.text, /^t_up 1$/m);
  assert.match(ok.type, /text\/plain; version=0\.0\.4/);
  assert.equal((await send(s.address, "HEAD", "/metrics")).status, 200);
  assert.equal((await send(s.address, "GET", "/")).status, 404);
  assert.equal((await send(s.address, "GET", "/metrics/x")).status, 404);
  assert.equal((await send(s.address, "POST", "/metrics")).status, 405);
  assert.equal((await send(s.address, "POST", "/metrics", "x")).status, 413);
  assert.equal((await send(s.address, "PUT", "/elsewhere", "x".repeat(1 << 20))).status, 413, "refused before the path, unread");
  assert.equal((await send(s.address, "GET", "/metrics", "a body")).status, 413);
  await s.close();
  await assert.rejects(send(s.address, "GET", "/metrics"), /ECONNREFUSED/);
});

test("an address in use is a clear error", async () => {
  const r = new Registry();
  const a = await serveMetrics("127.0.0.1:0", r);
  try {
    await assert.rejects(serveMetrics(a.address, r), /cannot serve metrics on metrics\.address "127\.0\.0\.1:\d+": EADDRINUSE; choose another address, or "" to turn metrics off/);
  } finally {
    await a.close();
  }
});
