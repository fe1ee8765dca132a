// PortForward end to end: a real daemon, a pod running busybox httpd, Berth's SPDY client
// (what `berth port-forward` runs) and a WebSocket client; several connections at once, a
// refused port, a host-network pod, the CLI, crictl, and a client that vanishes mid-stream.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readdir, readFile } from "node:fs/promises";
import { get } from "node:http";
import { connect, createServer } from "node:net";
import { after, before, test } from "node:test";
import { status, type ServiceError } from "@grpc/grpc-js";
import { WebSocket } from "ws";
import { call } from "../../src/cli/client.js";
import { startPortForward } from "../../src/cli/stream/port-forward.js";
import { MAIN, type Daemon } from "../fixtures/daemon.js";
import { ctrEnv, runCtr, sharedRegistry, type CtrEnv, type Registry } from "./containers-kit.js";
import { podInfo, runPod, stopPod } from "./pods-kit.js";
import { crictlOrSkip } from "../fixtures/crictl.js";

let r: Registry & { stop(): Promise<void> };
before(async () => {
  r = await sharedRegistry();
});
after(async () => {
  await r.stop();
});

const HTTPD = ["sh", "-c", "mkdir -p /www && echo hello-from-pod > /www/index.html && exec httpd -f -p 8080 -h /www"];

async function portForwardUrl(d: Daemon, podId: string, ports: number[]): Promise<string> {
  const c = d.client;
  return (await call(c, c.runtime, c.runtime.portForward, { podSandboxId: podId, port: ports })).url;
}

function httpGet(port: number, path = "/"): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d));
      res.once("end", () => resolve(body));
    }).once("error", reject);
  });
}

/** httpd needs a moment after the container starts: retry until it answers. */
async function httpGetEventually(port: number): Promise<string> {
  for (let i = 0; ; i++) {
    try {
      const body = await httpGet(port);
      if (body !== "") return body;
    } catch (err) {
      if (i > 100) throw err;
    }
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** PIDs whose command line names `s` (the dial helper carries its pod's netns pin). */
async function processesNaming(s: string): Promise<number[]> {
  const out: number[] = [];
  for (const n of await readdir("/proc")) {
    if (!/^\d+$/.test(n)) continue;
    if ((await readFile(`/proc/${n}/cmdline`, "utf8").catch(() => "")).includes(s)) out.push(Number(n));
  }
  return out;
}

async function eventually(what: string | (() => string), check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.fail(`timed out waiting for: ${typeof what === "string" ? what : what()}`);
}

/** `berth port-forward POD SPEC` as its own process; `port` resolves with the local port it printed. */
function berthPortForward(env: CtrEnv, pod: string, spec: string): { proc: ChildProcess; port: Promise<number>; out(): string; err(): string } {
  const proc = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", MAIN, "port-forward", pod, spec], {
    env: { ...process.env, BERTH_RUNTIME_ENDPOINT: `unix://${env.d.socket}` },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  proc.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  const port = new Promise<number>((resolve, reject) => {
    proc.stdout!.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      const m = /Forwarding from 127\.0\.0\.1:(\d+) -> /.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once("exit", (code) => reject(new Error(`berth port-forward exited ${code}: ${out}${err}`)));
  });
  return { proc, port, out: () => out, err: () => err };
}

async function httpdPod(env: CtrEnv): Promise<string> {
  return (await runCtr(env, { command: HTTPD })).podId;
}

test("port-forward into a pod's httpd: ten connections at once, a refused port, the same over WebSocket", async (t) => {
  const env = await ctrEnv(t, r);
  const podId = await httpdPod(env);
  const lines: string[] = [];
  const pf = await startPortForward(await portForwardUrl(env.d, podId, [8080, 8081]), [{ local: 0, remote: 8080 }, { local: 0, remote: 8081 }], "127.0.0.1", (l) => lines.push(l));
  t.after(() => pf.stop());
  const [web, refused] = pf.listening.map((l) => l.local) as [number, number];
  assert.equal(await httpGetEventually(web), "hello-from-pod\n");
  const bodies = await Promise.all(Array.from({ length: 10 }, () => httpGet(web)));
  assert.deepEqual(bodies, Array(10).fill("hello-from-pod\n"));

  // Nothing listens on 8081 in the pod: the error arrives on that request's error stream...
  const c = connect({ host: "127.0.0.1", port: refused });
  await once(c, "close");
  await eventually("the refused port's error", async () => lines.some((l) => l.includes("-> 8081: error forwarding port 8081 to pod")));
  assert.match(lines.find((l) => l.includes("-> 8081: "))!, /failed to connect to localhost:8081 inside the pod's network namespace, IPv4: .*ECONNREFUSED.*IPv6: .*ECONNREFUSED/);
  // ...and the same upgraded connection keeps forwarding.
  assert.equal(await httpGet(web), "hello-from-pod\n");
  pf.stop();
  await pf.done;

  // WebSocket (kubelet's v4 port-forward framing): the port first on both channels, then the data.
  const url = (await portForwardUrl(env.d, podId, [8080])).replace(/^http/, "ws");
  const ws = new WebSocket(url, ["v4.channel.k8s.io"]);
  const data: Buffer[] = [];
  const errors: Buffer[] = [];
  ws.on("message", (m: Buffer) => {
    if (m[0] === 0) {
      data.push(m.subarray(1));
      if (data.length === 1) ws.send(Buffer.concat([Buffer.of(0), Buffer.from("GET / HTTP/1.0\r\n\r\n")]));
    } else if (m[0] === 1) errors.push(m.subarray(1));
  });
  await once(ws, "close");
  assert.deepEqual(data[0], Buffer.from([0x90, 0x1f]), "8080 little-endian");
  assert.match(Buffer.concat(data.slice(1)).toString(), /^HTTP\/1\.[01] 200 OK[\s\S]*\r\n\r\nhello-from-pod\n$/);
  assert.equal(Buffer.concat(errors.slice(1)).toString(), "");
});

test("port-forward into a host-network pod reaches the host's loopback", async (t) => {
  const env = await ctrEnv(t, r);
  const server = createServer((s) => s.end("host-loopback\n")).listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  const podId = await runPod(env.d, { name: "hostnet-pf", hostNetwork: true });
  const pf = await startPortForward(await portForwardUrl(env.d, podId, [port]), [{ local: 0, remote: port }], "127.0.0.1", () => undefined);
  const s = connect({ host: "127.0.0.1", port: pf.listening[0]!.local });
  let got = "";
  s.setEncoding("utf8").on("data", (d: string) => (got += d));
  await once(s, "close");
  assert.equal(got, "host-loopback\n");
  pf.stop();
  await pf.done;
});

test("PortForward checks: unknown pod NotFound, stopped pod FailedPrecondition, bad port InvalidArgument", async (t) => {
  const env = await ctrEnv(t, r);
  const c = env.d.client;
  const pf = (podSandboxId: string, port: number[]) => call(c, c.runtime, c.runtime.portForward, { podSandboxId, port });
  await assert.rejects(pf("0".repeat(64), [80]), (e: ServiceError) => e.code === status.NOT_FOUND);
  const podId = await runPod(env.d, { name: "pf-checks" });
  await assert.rejects(pf(podId, [0]), (e: ServiceError) => e.code === status.INVALID_ARGUMENT && /port 0 is not a TCP port/.test(e.details));
  await stopPod(env.d, podId);
  await assert.rejects(pf(podId, [80]), (e: ServiceError) => e.code === status.FAILED_PRECONDITION && /is not ready/.test(e.details));
});

test("a client that vanishes mid-stream, then a pod stop, leave no helper, socket or pin behind", async (t) => {
  const env = await ctrEnv(t, r);
  const podId = await httpdPod(env);
  const pin = (await podInfo(env.d, podId)).netnsPath;
  // `berth port-forward` in its own process, killed with SIGKILL mid-request: a client that vanishes.
  const cli = berthPortForward(env, podId, ":8080");
  const local = await cli.port;
  assert.equal(await httpGetEventually(local), "hello-from-pod\n");
  const half = connect({ host: "127.0.0.1", port: local });
  await once(half, "connect");
  half.write("GET / HTTP/1.1\r\nHost: x\r\n");
  await eventually("one dial helper in the pod's netns", async () => (await processesNaming(`${pin}\0`)).length === 1);
  cli.proc.kill("SIGKILL");
  await once(cli.proc, "exit");
  half.destroy();
  await eventually("the helper is gone once its only session is", async () => (await processesNaming(`${pin}\0`)).length === 0);

  // A second session, then the pod stops under it: its connections and helper go with it.
  const pf2 = await startPortForward(await portForwardUrl(env.d, podId, [8080]), [{ local: 0, remote: 8080 }], "127.0.0.1", () => undefined);
  const open = connect({ host: "127.0.0.1", port: pf2.listening[0]!.local });
  await once(open, "connect");
  open.write("GET / HTTP/1.1\r\nHost: x\r\n");
  await eventually("a helper again", async () => (await processesNaming(`${pin}\0`)).length === 1);
  const cut = once(open, "close");
  await stopPod(env.d, podId);
  assert.equal((await processesNaming(`${pin}\0`)).length, 0, "StopPodSandbox took the helper down");
  await cut;
  pf2.stop();
  // The env's teardown removes the pod and runs the leak checker (processes, pins, mounts, veths).
});

test("berth port-forward POD LOCAL:REMOTE prints kubectl's lines and forwards until interrupted", async (t) => {
  const env = await ctrEnv(t, r);
  const podId = await httpdPod(env);
  const cli = berthPortForward(env, podId.slice(0, 12), ":8080");
  t.after(() => void (cli.proc.exitCode === null && cli.proc.kill("SIGKILL")));
  const local = await cli.port;
  assert.equal(await httpGetEventually(local), "hello-from-pod\n");
  assert.match(cli.out(), new RegExp(`Handling connection for ${local}`));
  cli.proc.kill("SIGINT");
  const [code] = (await once(cli.proc, "exit")) as [number | null];
  assert.equal(code, 0, cli.err());
});

/** A local port nothing listens on right now. */
async function freePort(): Promise<number> {
  const probe = createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const port = (probe.address() as { port: number }).port;
  await new Promise((res) => probe.close(res));
  return port;
}

test("crictl port-forward (the Go SPDY client) against Berth: connections at once, then a refused port's error reaches crictl", async (t) => {
  const crictl = crictlOrSkip(t);
  if (!crictl) return;
  const env = await ctrEnv(t, r);
  const podId = await httpdPod(env);
  const [web, refused] = [await freePort(), await freePort()];
  const p = spawn(crictl, ["--runtime-endpoint", `unix://${env.d.socket}`, "port-forward", podId, `${web}:8080`, `${refused}:8081`], { stdio: ["ignore", "pipe", "pipe"] });
  t.after(() => void (p.exitCode === null && p.kill("SIGKILL")));
  let out = "";
  p.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  p.stderr.setEncoding("utf8").on("data", (d: string) => (out += d));
  await eventually("crictl forwarding", async () => out.includes(`Forwarding from 127.0.0.1:${refused}`) || p.exitCode !== null);
  assert.equal(await httpGetEventually(web), "hello-from-pod\n", out);
  const bodies = await Promise.all(Array.from({ length: 5 }, () => httpGet(web)));
  assert.deepEqual(bodies, Array(5).fill("hello-from-pod\n"));
  const c = connect({ host: "127.0.0.1", port: refused });
  c.on("error", () => undefined);
  await once(c, "close");
  await eventually(() => `crictl reporting the refused port; so far: ${out}`, async () => /an error occurred forwarding \d+ -> 8081: error forwarding port 8081 to pod .*failed to connect to localhost:8081/.test(out));
  // client-go (since 1.23) closes the whole connection after a forwarding error, so crictl ends
  // here by itself; Berth's own client keeps the session (the first test).
  await eventually(() => `crictl ending after the error; so far: ${out}`, async () => p.exitCode !== null);
});
