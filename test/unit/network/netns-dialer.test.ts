// The port-forward dialer against a real network namespace (pinned with unshare, listeners run
// there with socat): IPv4 then IPv6, many connections at once, errors, and no helper left behind.
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { promisify } from "node:util";
import { PodDialers } from "../../../src/network/netns-dialer.js";
import { pinNamespaces, unpinNamespaces } from "../../../src/pods/namespaces.js";

const run = promisify(execFile);

/** PIDs of processes whose command line mentions `s`. */
async function processesMentioning(s: string): Promise<number[]> {
  const out: number[] = [];
  for (const n of await readdir("/proc")) {
    if (!/^\d+$/.test(n) || Number(n) === process.pid) continue;
    const cmd = await readFile(`/proc/${n}/cmdline`, "utf8").catch(() => "");
    if (cmd.includes(s)) out.push(Number(n));
  }
  return out;
}

async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for: ${what}`);
}

interface Netns {
  pin: string;
  /** Runs a socat listener inside the namespace (killed by PID after the test). */
  listen(address: string, reply: string): Promise<void>;
}

async function netns(t: TestContext): Promise<Netns> {
  const dir = await mkdtemp(join(tmpdir(), "berth-pf-"));
  const owned: ChildProcess[] = [];
  const pins = await pinNamespaces(dir, "pf", { net: true, ipc: false, uts: false });
  t.after(async () => {
    for (const c of owned) if (c.exitCode === null) c.kill("SIGKILL");
    await Promise.all(owned.map((c) => (c.exitCode === null && c.signalCode === null ? once(c, "exit") : undefined)));
    await unpinNamespaces(pins);
    await rm(dir, { recursive: true, force: true });
  });
  const pin = pins.net!;
  await run("nsenter", [`--net=${pin}`, "--", "ip", "link", "set", "lo", "up"]);
  return {
    pin,
    async listen(address, reply) {
      const c = spawn("nsenter", [`--net=${pin}`, "--", "socat", `${address},reuseaddr,fork`, `SYSTEM:echo ${reply}; exec cat`], { stdio: "ignore" });
      owned.push(c);
      const port = /LISTEN:(\d+)/.exec(address)![1]!;
      await eventually(`socat listening on ${address}`, async () => {
        const { stdout } = await run("nsenter", [`--net=${pin}`, "--", "ss", "-Htln", `sport = :${port}`]);
        return stdout.trim() !== "";
      });
    },
  };
}

/** Reads the banner line, sends `msg`, reads it echoed back, closes. */
async function talk(s: Socket, msg: string): Promise<string> {
  let got = "";
  s.setEncoding("utf8");
  s.on("data", (d: string) => {
    got += d;
    if (got.includes(msg)) s.end();
  });
  s.write(msg);
  await once(s, "close");
  return got;
}

test("dials localhost in the pod's namespace: IPv4, IPv6-only, many at once, then the helper goes", async (t) => {
  const ns = await netns(t);
  await ns.listen("TCP4-LISTEN:8080,bind=127.0.0.1", "v4-banner");
  await ns.listen("TCP6-LISTEN:8081,bind=[::1],ipv6only=1", "v6-banner");
  const dialers = new PodDialers();
  t.after(() => dialers.close());
  const lease = dialers.acquire("pod1", ns.pin);
  const sockets = await Promise.all([...Array.from({ length: 8 }, () => lease.dial(8080)), lease.dial(8081)]);
  const replies = await Promise.all(sockets.map((s, i) => talk(s, `hello-${i}\n`)));
  for (let i = 0; i < 8; i++) assert.equal(replies[i], `v4-banner\nhello-${i}\n`, "the banner sent before we read is not lost");
  assert.equal(replies[8], "v6-banner\nhello-8\n", "::1 when 127.0.0.1 refuses");
  assert.equal(dialers.helperCount(), 1, "one helper serves all connections into the pod");
  assert.equal((await processesMentioning(`${ns.pin}\0`)).length, 1, "the helper shows its pin on its command line");
  lease.release();
  await eventually("the helper exited after the last release", async () => (await processesMentioning(`${ns.pin}\0`)).length === 0 && dialers.helperCount() === 0);
});

test("a refused port is an error naming both attempts; the lease keeps working", async (t) => {
  const ns = await netns(t);
  await ns.listen("TCP4-LISTEN:8080,bind=127.0.0.1", "ok");
  const dialers = new PodDialers();
  t.after(() => dialers.close());
  const lease = dialers.acquire("pod1", ns.pin);
  await assert.rejects(lease.dial(8099), /failed to connect to localhost:8099 inside the pod's network namespace, IPv4: .*ECONNREFUSED.*IPv6: .*ECONNREFUSED/);
  await assert.rejects(lease.dial(0), /port 0 is not a TCP port/);
  assert.equal(await talk(await lease.dial(8080), "again\n"), "ok\nagain\n");
  lease.release();
});

test("stopping the pod cuts its forwarded connections and its helper; later dials fail", async (t) => {
  const ns = await netns(t);
  await ns.listen("TCP4-LISTEN:8080,bind=127.0.0.1", "x");
  const dialers = new PodDialers();
  t.after(() => dialers.close());
  const lease = dialers.acquire("pod1", ns.pin);
  const s = await lease.dial(8080);
  const closed = once(s, "close");
  await dialers.closePod("pod1");
  await closed;
  assert.equal((await processesMentioning(`${ns.pin}\0`)).length, 0, "no helper left");
  await assert.rejects(lease.dial(8080), /pod sandbox pod1 was stopped/);
  lease.release();
});

test("a pin that is gone gives the helper's error", async () => {
  const dialers = new PodDialers();
  const lease = dialers.acquire("pod1", "/nonexistent/berth-netns-pin");
  await assert.rejects(lease.dial(80), /dial helper in \/nonexistent\/berth-netns-pin exited \(code 1\): nsenter: .*No such file/);
  lease.release();
  await dialers.close();
});

test("a host-network pod is dialed on the host, without a helper", async (t) => {
  const srv = createServer((c) => c.end("host-side\n")).listen(0, "127.0.0.1");
  await once(srv, "listening");
  t.after(() => srv.close());
  const port = (srv.address() as { port: number }).port;
  const dialers = new PodDialers();
  const lease = dialers.acquire("hostpod", undefined);
  const s = await lease.dial(port);
  let got = "";
  s.setEncoding("utf8").on("data", (d: string) => (got += d));
  // Half-close passes through: the pod's FIN does not end our side by itself.
  await once(s, "end");
  assert.equal(s.writable, true);
  s.end();
  await once(s, "close");
  assert.equal(got, "host-side\n");
  assert.equal(dialers.helperCount(), 0);
  lease.release();
  await dialers.close();
});

test("the helper exits by itself when the daemon dies (SIGKILL)", async (t) => {
  const ns = await netns(t);
  await ns.listen("TCP4-LISTEN:8080,bind=127.0.0.1", "x");
  const mod = new URL("../../../src/network/netns-dialer.js", import.meta.url).pathname;
  const script = `const { PodDialers } = await import(${JSON.stringify(mod)});
    const s = await new PodDialers().acquire("p", ${JSON.stringify(ns.pin)}).dial(8080);
    process.stdout.write("dialed\\n"); setInterval(() => {}, 1000);`;
  const fake = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  t.after(() => void (fake.exitCode === null && fake.kill("SIGKILL")));
  await once(fake.stdout!, "data");
  assert.equal((await processesMentioning(`${ns.pin}\0`)).length, 1, "the helper runs while the daemon does");
  fake.kill("SIGKILL");
  await once(fake, "exit");
  await eventually("the orphaned helper exited", async () => (await processesMentioning(`${ns.pin}\0`)).length === 0);
});
