// The CNI chain against Debian's real plugins in namespaces the test pins: addresses on a
// per-test bridge, pod-to-pod TCP, a hostPort on 127.0.0.1, DEL from the cache, failures.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test, type TestContext } from "node:test";
import { promisify } from "node:util";
import { CniNetwork, type PodNetwork } from "../../../../src/network/cni/network.js";
import { pinNamespaces, unpinNamespaces, type PinnedNamespaces } from "../../../../src/pods/namespaces.js";

const run = promisify(execFile);
const BIN = "/usr/lib/cni";
const IP_FORWARD = "/proc/sys/net/ipv4/ip_forward";

// Debian's bridge plugin turns ip_forward on whenever isGateway is set; put it back.
let ipForward = "";
before(async () => {
  ipForward = (await readFile(IP_FORWARD, "utf8")).trim();
});
after(async () => {
  if (ipForward) await writeFile(IP_FORWARD, ipForward);
});

interface Env {
  root: string;
  confDir: string;
  cacheDir: string;
  dataDir: string;
  pinDir: string;
  bridge: string;
  subnet: string;
  prefix: string;
  network: string;
  /** Registers an undo step; steps run last-in first-out after the test (t.after runs in order). */
  defer: (fn: () => Promise<unknown>) => void;
}

const hex = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join("");

/** A private world for one test: its own bridge, /24, conf, cache, IPAM and pin dirs, all removed after. */
async function makeEnv(t: TestContext, extraPlugins: object[] = []): Promise<Env> {
  const root = await mkdtemp(join(tmpdir(), "berth-cni-"));
  const id = hex(6);
  const third = 1 + Math.floor(Math.random() * 254);
  const env: Env = {
    root,
    confDir: join(root, "net.d"),
    cacheDir: join(root, "cache"),
    dataDir: join(root, "ipam"),
    pinDir: join(root, "pins"),
    bridge: `bt${id}`,
    subnet: `10.250.${third}.0/24`,
    prefix: `10.250.${third}.`,
    network: `berth-test-${id}`,
    defer: (fn) => undo.push(fn),
  };
  const undo: Array<() => Promise<unknown>> = [];
  t.after(async () => {
    for (const fn of undo.reverse()) await fn();
  });
  env.defer(() => rm(root, { recursive: true, force: true }));
  env.defer(() => run("ip", ["link", "del", env.bridge]).catch(() => undefined));
  await mkdir(env.confDir);
  await writeConf(env, extraPlugins);
  return env;
}

async function writeConf(env: Env, extraPlugins: object[] = []): Promise<void> {
  const list = {
    cniVersion: "1.0.0",
    name: env.network,
    plugins: [
      {
        type: "bridge",
        bridge: env.bridge,
        isGateway: true,
        ipMasq: false,
        hairpinMode: false,
        ipam: { type: "host-local", ranges: [[{ subnet: env.subnet }]], dataDir: env.dataDir },
      },
      { type: "portmap", capabilities: { portMappings: true } },
      ...extraPlugins,
    ],
  };
  await writeFile(join(env.confDir, "10-test.conflist"), JSON.stringify(list));
}

/** Pins a netns for a pod; the after-hook runs DEL (a no-op if the test already did) and unpins. */
async function makePod(_t: TestContext, env: Env, net: () => CniNetwork, name: string, extra: Partial<PodNetwork> = {}): Promise<{ pod: PodNetwork; pins: PinnedNamespaces }> {
  const id = `${name}${hex(8)}`;
  const pins = await pinNamespaces(env.pinDir, id, { net: true, ipc: false, uts: false });
  env.defer(async () => {
    await net()
      .tearDown({ id, name, namespace: "default", uid: `uid-${id}` })
      .catch(() => undefined);
    await unpinNamespaces(pins);
  });
  return { pod: { id, name, namespace: "default", uid: `uid-${id}`, netns: pins.net!, ...extra }, pins };
}

async function inNetns(netns: string, ...cmd: string[]): Promise<string> {
  return (await run("nsenter", [`--net=${netns}`, "--", ...cmd])).stdout;
}

async function leases(env: Env): Promise<string[]> {
  const files = await readdir(join(env.dataDir, env.network)).catch(() => [] as string[]);
  return files.filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
}

async function natRulesFor(containerId: string): Promise<string[]> {
  const { stdout } = await run("iptables", ["-w", "-t", "nat", "-S"]);
  return stdout.split("\n").filter((l) => l.includes(containerId));
}

async function bridgePorts(bridge: string): Promise<string> {
  return (await run("ip", ["-o", "link", "show", "master", bridge]).catch(() => ({ stdout: "" }))).stdout.trim();
}

/** A free TCP port on 127.0.0.1 (bind to 0, read it, close). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (typeof a === "object" && a ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}

/** socat echo server inside a netns, for one connection; killed by PID after the test. */
function listenIn(env: Env, netns: string, port: number): void {
  const child = spawn("nsenter", [`--net=${netns}`, "--", "socat", `TCP-LISTEN:${port},reuseaddr`, "EXEC:cat"], { stdio: "ignore" });
  env.defer(async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, "SIGKILL");
  });
}

/** Sends a line and expects it back, retrying while the listener starts. */
async function echoOver(connect: string[], msg: string): Promise<string> {
  let last = "";
  for (let i = 0; i < 50; i++) {
    const out = await new Promise<string>((resolve) => {
      const c = spawn(connect[0]!, connect.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
      let buf = "";
      c.stdout.on("data", (b: Buffer) => (buf += b.toString()));
      c.stderr.on("data", (b: Buffer) => (last = b.toString()));
      c.on("close", () => resolve(buf));
      // socat exits at once while the listener is not up yet; its stdin then closes under us.
      c.stdin.on("error", () => undefined);
      c.stdin.end(`${msg}\n`);
    });
    if (out.trim() === msg) return out.trim();
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no echo over ${connect.join(" ")}: ${last}`);
}

test("ADD gives the pod an address on the bridge with lo up; CHECK passes; DEL frees it; DEL twice is fine", async (t) => {
  const env = await makeEnv(t);
  const net = new CniNetwork({ confDirs: [env.confDir], binDirs: [BIN], cacheDir: env.cacheDir });
  let t0 = performance.now();
  const { pod } = await makePod(t, env, () => net, "a");
  const pinMs = performance.now() - t0;

  t0 = performance.now();
  const r = await net.setUp(pod);
  const addMs = performance.now() - t0;
  assert.equal(r.network, env.network);
  assert.ok(r.ips.primary.startsWith(env.prefix), `primary ${r.ips.primary} in ${env.subnet}`);
  assert.deepEqual(r.ips.additional, []);
  const addrs = await inNetns(pod.netns, "ip", "-o", "-4", "addr", "show");
  assert.match(addrs, new RegExp(`eth0\\s+inet ${r.ips.primary.replaceAll(".", "\\.")}/24`));
  assert.match(addrs, /lo\s+inet 127\.0\.0\.1\/8/, "loopback plugin brought lo up");
  assert.match(await bridgePorts(env.bridge), /master/, "host veth is on the bridge");
  assert.deepEqual(await leases(env), [r.ips.primary]);
  assert.deepEqual(await readdir(env.cacheDir), [`${env.network}-${pod.id}-eth0.json`]);

  await net.check(pod);

  t0 = performance.now();
  await net.tearDown(pod);
  const delMs = performance.now() - t0;
  t.diagnostic(`pin netns ${pinMs.toFixed(1)} ms, CNI ADD (lo + bridge + portmap) ${addMs.toFixed(1)} ms, DEL ${delMs.toFixed(1)} ms`);
  assert.deepEqual(await leases(env), []);
  assert.equal(await bridgePorts(env.bridge), "", "veth gone");
  assert.doesNotMatch(await inNetns(pod.netns, "ip", "-o", "link"), /eth0/);
  assert.deepEqual(await readdir(env.cacheDir), []);
  await net.tearDown(pod);
});

test("two pods on the bridge reach each other over TCP", async (t) => {
  const env = await makeEnv(t);
  const net = new CniNetwork({ confDirs: [env.confDir], binDirs: [BIN], cacheDir: env.cacheDir });
  const a = await makePod(t, env, () => net, "a");
  const b = await makePod(t, env, () => net, "b");
  const [ra, rb] = await Promise.all([net.setUp(a.pod), net.setUp(b.pod)]);
  assert.notEqual(ra.ips.primary, rb.ips.primary);
  listenIn(env, a.pod.netns, 8080);
  const got = await echoOver(["nsenter", `--net=${b.pod.netns}`, "--", "socat", "-T2", "-", `TCP:${ra.ips.primary}:8080`], "hello from b");
  assert.equal(got, "hello from b");
  await Promise.all([net.tearDown(a.pod), net.tearDown(b.pod)]);
  assert.deepEqual(await leases(env), []);
});

test("a hostPort mapping is reachable on 127.0.0.1 and its iptables rules go with DEL", async (t) => {
  const env = await makeEnv(t);
  const net = new CniNetwork({ confDirs: [env.confDir], binDirs: [BIN], cacheDir: env.cacheDir });
  const hostPort = await freePort();
  const { pod } = await makePod(t, env, () => net, "hp", { ports: [{ hostPort, containerPort: 8080, protocol: "tcp" }] });
  const r = await net.setUp(pod);
  assert.ok((await natRulesFor(pod.id)).length > 0, "portmap added DNAT rules for the pod");
  // portmap (snat on, its default) sets route_localnet on the bridge and masquerades 127.0.0.1,
  // which is what makes the loopback address work; without it only the node's other addresses would.
  assert.equal((await readFile(`/proc/sys/net/ipv4/conf/${env.bridge}/route_localnet`, "utf8")).trim(), "1");
  listenIn(env, pod.netns, 8080);
  assert.equal(await echoOver(["socat", "-T2", "-", `TCP:127.0.0.1:${hostPort}`], "via hostport"), "via hostport");
  assert.ok(r.ips.primary);
  await net.tearDown(pod);
  assert.deepEqual(await natRulesFor(pod.id), [], "portmap's per-pod chains and rules removed");
});

test("DEL works from the cache after the config is removed and the daemon restarted, and after the netns is gone", async (t) => {
  const env = await makeEnv(t);
  const first = new CniNetwork({ confDirs: [env.confDir], binDirs: [BIN], cacheDir: env.cacheDir });
  let current = first;
  const hostPort = await freePort();
  const a = await makePod(t, env, () => current, "a", { ports: [{ hostPort, containerPort: 80 }] });
  const b = await makePod(t, env, () => current, "b");
  await first.setUp(a.pod);
  await first.setUp(b.pod);
  assert.equal((await leases(env)).length, 2);

  await rm(join(env.confDir, "10-test.conflist"));
  // A new instance is what a restarted daemon has: only the on-disk cache.
  current = new CniNetwork({ confDirs: [env.confDir], binDirs: [BIN], cacheDir: env.cacheDir });
  assert.deepEqual(await current.status(), {
    ready: false,
    reason: "NetworkPluginNotReady",
    message: `Network plugin returns error: cni config uninitialized: no network config found in ${env.confDir}`,
  });
  await current.tearDown(a.pod);
  assert.deepEqual(await natRulesFor(a.pod.id), []);

  // Pod b's netns is gone before DEL: DEL still runs (empty CNI_NETNS) so IPAM frees the address.
  await unpinNamespaces(b.pins);
  await current.tearDown({ ...b.pod, netns: b.pod.netns });
  assert.deepEqual(await leases(env), []);
  assert.deepEqual(await readdir(env.cacheDir), []);
  await current.tearDown(b.pod);

  // And the config coming back is noticed without a restart.
  await writeConf(env);
  assert.deepEqual(await current.status(), { ready: true, network: env.network });
});

test("a failing plugin surfaces its message and leaves nothing behind", async (t) => {
  const bin = await mkdtemp(join(tmpdir(), "berth-cnibin-"));
  t.after(() => rm(bin, { recursive: true, force: true }));
  // ADD fails with a CNI error; DEL succeeds, as the spec asks of every plugin.
  await writeFile(
    join(bin, "refuse"),
    `#!/bin/sh\ncat >/dev/null\nif [ "$CNI_COMMAND" = ADD ]; then echo '{"cniVersion":"1.0.0","code":100,"msg":"policy refused pod","details":"no quota left"}'; exit 1; fi\nexit 0\n`,
  );
  await chmod(join(bin, "refuse"), 0o755);
  const env = await makeEnv(t, [{ type: "refuse" }]);
  const net = new CniNetwork({ confDirs: [env.confDir], binDirs: [bin, BIN], cacheDir: env.cacheDir });
  const hostPort = await freePort();
  const { pod } = await makePod(t, env, () => net, "f", { ports: [{ hostPort, containerPort: 80 }] });
  await assert.rejects(net.setUp(pod), /CNI plugin "refuse" ADD for network "berth-test-\w+" \(container f\w+\) failed: policy refused pod: no quota left \(CNI error code 100\)/);
  assert.deepEqual(await leases(env), [], "bridge's IP was released");
  assert.equal(await bridgePorts(env.bridge), "", "veth removed");
  assert.doesNotMatch(await inNetns(pod.netns, "ip", "-o", "link"), /eth0/);
  assert.deepEqual(await natRulesFor(pod.id), [], "portmap rules removed");
  assert.deepEqual(await readdir(env.cacheDir), [], "no cache left");
});

test("setUp without a config fails with FailedPrecondition naming the conf dir", async (t) => {
  const env = await makeEnv(t);
  await rm(join(env.confDir, "10-test.conflist"));
  const net = new CniNetwork({ confDirs: [env.confDir], binDirs: [BIN], cacheDir: env.cacheDir });
  const { pod } = await makePod(t, env, () => net, "n");
  await assert.rejects(net.setUp(pod), new RegExp(`no network config found in ${env.confDir.replaceAll(".", "\\.")}`));
});
