// resolv.conf, hosts and hostname content for a pod, and the atomic writers.
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { hostsContent, resolvConfContent, writePodFiles, writeResolvConf } from "../../../src/pods/files.js";

test("resolv.conf from CRI DNSConfig", () => {
  assert.equal(
    resolvConfContent({ servers: ["10.96.0.10", "fd00::10"], searches: ["default.svc.cluster.local", "svc.cluster.local"], options: ["ndots:5", "edns0"] }),
    "search default.svc.cluster.local svc.cluster.local\nnameserver 10.96.0.10\nnameserver fd00::10\noptions ndots:5 edns0\n",
  );
  assert.equal(resolvConfContent({ servers: ["1.2.3.4"] }), "nameserver 1.2.3.4\n");
  assert.throws(() => resolvConfContent({ servers: ["dns.example"] }), /server "dns\.example" is not an IP address/);
  assert.throws(() => resolvConfContent({ searches: ["a\nnameserver 6.6.6.6"] }), /search/);
  assert.throws(() => resolvConfContent({ searches: Array.from({ length: 33 }, (_, i) => `d${i}`) }), /at most 32/);
});

test("hosts: localhost lines, pod IPs with the hostname, host aliases", () => {
  const h = hostsContent({
    hostname: "web-0",
    podIps: ["10.88.0.5", "fd00::5"],
    aliases: [{ ip: "10.1.2.3", hostnames: ["foo.local", "bar.local"] }],
  });
  const lines = h.split("\n");
  assert.ok(lines.includes("127.0.0.1\tlocalhost"));
  assert.ok(lines.includes("::1\tlocalhost ip6-localhost ip6-loopback"));
  assert.ok(lines.includes("10.88.0.5\tweb-0"));
  assert.ok(lines.includes("fd00::5\tweb-0"));
  assert.ok(lines.includes("10.1.2.3\tfoo.local\tbar.local"));
  assert.ok(h.endsWith("\n"));
  assert.throws(() => hostsContent({ hostname: "x", podIps: ["nope"] }), /pod IP "nope"/);
  assert.throws(() => hostsContent({ hostname: "x y", podIps: [] }), /host name/);
});

test("writers: DNS config or a copy of the host's resolv.conf; no temp files left", async (t) => {
  const d = await mkdtemp(join(tmpdir(), "berth-podfiles-"));
  t.after(() => rm(d, { recursive: true, force: true }));
  const hostResolv = join(d, "host-resolv.conf");
  await writeFile(hostResolv, "nameserver 192.0.2.1\nsearch example\n");
  const podDir = join(d, "pod");
  const paths = await writePodFiles(podDir, { hostname: "web-0", podIps: ["10.88.0.5"], hostResolvConf: hostResolv });
  assert.equal(await readFile(paths.resolvConf, "utf8"), "nameserver 192.0.2.1\nsearch example\n");
  assert.equal(await readFile(paths.hostname, "utf8"), "web-0\n");
  assert.match(await readFile(paths.hosts, "utf8"), /\n10\.88\.0\.5\tweb-0\n/);
  await writeResolvConf(paths.resolvConf, { servers: ["10.96.0.10"], searches: [], options: [] }, hostResolv);
  assert.equal(await readFile(paths.resolvConf, "utf8"), "nameserver 10.96.0.10\n");
  // An all-empty DNSConfig means "none given": the host's file again.
  await writeResolvConf(paths.resolvConf, { servers: [], searches: [], options: [] }, hostResolv);
  assert.equal(await readFile(paths.resolvConf, "utf8"), "nameserver 192.0.2.1\nsearch example\n");
  assert.deepEqual((await readdir(podDir)).sort(), ["hostname", "hosts", "resolv.conf"]);
});
