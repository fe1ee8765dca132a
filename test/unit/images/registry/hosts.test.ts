// Endpoint planning from hosts.toml and registries.conf files in a temp dir: order, rewrites,
// TLS files, capabilities, blocked registries, aliases, and re-reading after edits.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, rm, writeFile, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BerthError, Code } from "../../../../src/errors.js";
import { RegistryHosts } from "../../../../src/images/registry/hosts.js";
import { parseReference } from "../../../../src/images/registry/reference.js";
import { canServeManifest } from "../../../../src/images/registry/endpoint.js";

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "berth-hosts-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function hostsToml(root: string, host: string, text: string): Promise<string> {
  await mkdir(join(root, host), { recursive: true });
  const p = join(root, host, "hosts.toml");
  await writeFile(p, text);
  return p;
}

const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

test("no configuration: the default upstream (docker.io → registry-1.docker.io), https", async () => {
  const h = new RegistryHosts();
  const p = await h.plan(parseReference("busybox"));
  assert.equal(p.endpoints.length, 1);
  assert.equal(p.endpoints[0]?.url, "https://registry-1.docker.io/v2");
  assert.equal(p.endpoints[0]?.repository, "library/busybox");
  assert.equal(p.endpoints[0]?.mirror, false);
  const local = await h.plan(parseReference("localhost:5000/x"));
  assert.equal(local.endpoints[0]?.url, "https://localhost:5000/v2", "plain http only when configured, even for localhost");
});

test("hosts.toml: mirrors in order, then server; capabilities, ca, skip_verify, client, paths", async (t) => {
  const root = await tempDir(t);
  await writeFile(join(root, "ca.pem"), PEM);
  await writeFile(join(root, "client.pem"), "CERT+KEY");
  await hostsToml(root, "docker.io", `
server = "https://registry-1.docker.io"
[host."http://127.0.0.1:5001"]
  capabilities = ["pull", "resolve"]
[host."https://mirror.example/cache"]
  capabilities = ["pull"]
  ca = "../ca.pem"
  skip_verify = true
  client = "../client.pem"
  [host."https://mirror.example/cache".header]
    x-test = ["a", "b"]
[host."https://raw.example/custom/path"]
  override_path = true
`);
  const h = new RegistryHosts({ configPath: root });
  const p = await h.plan(parseReference("busybox:1"));
  assert.deepEqual(p.endpoints.map((e) => e.url), [
    "http://127.0.0.1:5001/v2", "https://mirror.example/cache/v2", "https://raw.example/custom/path", "https://registry-1.docker.io/v2",
  ]);
  const [plain, cache, , upstream] = p.endpoints;
  assert.equal(plain?.scheme, "http");
  assert.deepEqual(plain?.capabilities, { pull: true, resolve: true, push: false });
  assert.equal(plain?.mirror, true);
  assert.deepEqual(cache?.tls.caPems, [PEM]);
  assert.equal(cache?.tls.skipVerify, true);
  assert.deepEqual(cache?.tls.clientCert, { certPem: "CERT+KEY", keyPem: "CERT+KEY" });
  assert.deepEqual(cache?.headers, { "x-test": "a, b" });
  assert.equal(cache && canServeManifest(cache, false), false, "pull-only mirror cannot resolve tags");
  assert.equal(cache && canServeManifest(cache, true), true, "but serves digests");
  assert.equal(upstream?.mirror, false);
  assert.equal(upstream?.repository, "library/busybox");
});

test("hosts.toml: host:port directory, _default, certs.d *.crt, no-fallback server", async (t) => {
  const root = await tempDir(t);
  await hostsToml(root, "127.0.0.1:5999", `server = "http://127.0.0.1:5999"\n`);
  await hostsToml(root, "_default", `capabilities = []\n[host."https://only-mirror.example"]\n`);
  await mkdir(join(root, "tls.example"));
  await writeFile(join(root, "tls.example", "ca.crt"), PEM);
  const h = new RegistryHosts({ configPath: root });
  const a = await h.plan(parseReference("127.0.0.1:5999/app"));
  assert.deepEqual(a.endpoints.map((e) => e.url), ["http://127.0.0.1:5999/v2"]);
  const b = await h.plan(parseReference("quay.io/x/y"));
  assert.deepEqual(b.endpoints.map((e) => e.url), ["https://only-mirror.example/v2"], "capabilities=[] on the server: no fallback");
  const c = await h.plan(parseReference("tls.example/x"));
  assert.deepEqual(c.endpoints[0]?.tls.caPems, [PEM]);
});

test("hosts.toml errors name the file", async (t) => {
  const root = await tempDir(t);
  const p = await hostsToml(root, "bad.example", `server = 5\n`);
  await hostsToml(root, "toml.example", `server = "x\n`);
  await hostsToml(root, "ca.example", `ca = "/nonexistent/ca.pem"\n`);
  const h = new RegistryHosts({ configPath: root });
  await assert.rejects(h.plan(parseReference("bad.example/x")), (e: unknown) => e instanceof BerthError && e.message.includes(p) && /server must be/.test(e.message));
  await assert.rejects(h.plan(parseReference("toml.example/x")), /not valid TOML \(line 1/);
  await assert.rejects(h.plan(parseReference("ca.example/x")), /ca file \/nonexistent\/ca.pem does not exist/);
});

test("registries.conf: prefix/location rewrite, mirrors with pull-from-mirror, insecure, blocked, aliases, drop-ins", async (t) => {
  const root = await tempDir(t);
  const conf = join(root, "registries.conf");
  await writeFile(conf, `
unqualified-search-registries = ["docker.io"]
[[registry]]
prefix = "example.com/foo"
location = "internal.example/bar"
insecure = true
[[registry.mirror]]
location = "mirror.example:5000/m"
pull-from-mirror = "digest-only"
[[registry.mirror]]
location = "mirror2.example"
insecure = true

[[registry]]
location = "blocked.example"
blocked = true

[[registry]]
prefix = "*.wild.example"
mirror-by-digest-only = true
[[registry.mirror]]
location = "wmirror.example"

[aliases]
"short" = "quay.io/team/short"
`);
  await mkdir(join(root, "registries.conf.d"));
  await writeFile(join(root, "registries.conf.d", "10-more.conf"), `[aliases]\n"other" = "example.com/foo/other"\n`);
  const h = new RegistryHosts({ registriesConf: conf });
  const p = await h.plan(parseReference("example.com/foo/app:1"));
  assert.deepEqual(p.endpoints.map((e) => [e.url, e.repository, e.pullFrom]), [
    ["https://mirror.example:5000/v2", "m/app", "digest-only"],
    ["https://mirror2.example/v2", "app", "all"],
    ["https://internal.example/v2", "bar/app", "all"],
  ]);
  assert.equal(p.endpoints[0]?.tls.skipVerify, false);
  assert.equal(p.endpoints[1]?.httpFallback, true, "insecure mirror may fall back to http");
  assert.equal(p.endpoints[2]?.tls.skipVerify, true);
  assert.equal(p.ref.name, "example.com/foo/app", "the image keeps its own name");
  // Prefix boundaries: example.com/foobar is not under example.com/foo.
  assert.deepEqual((await h.plan(parseReference("example.com/foobar"))).endpoints.map((e) => e.url), ["https://example.com/v2"]);
  await assert.rejects(h.plan(parseReference("blocked.example/x")), (e: unknown) => e instanceof BerthError && e.code === Code.FAILED_PRECONDITION && /blocked/.test(e.message));
  assert.deepEqual((await h.plan(parseReference("blocked.example:5000/x"))).endpoints.length, 1, "another port is another registry");
  const w = await h.plan(parseReference("a.wild.example/x"));
  assert.deepEqual(w.endpoints.map((e) => [e.url, e.repository, e.pullFrom]), [["https://wmirror.example/v2", "x", "digest-only"], ["https://a.wild.example/v2", "x", "all"]]);
  const s = await h.plan(parseReference("short:2"));
  assert.equal(s.ref.name, "quay.io/team/short");
  assert.equal(s.ref.tag, "2");
  assert.equal((await h.plan(parseReference("docker.io/library/short"))).ref.name, "docker.io/library/short", "aliases apply to short names only");
  const o = await h.plan(parseReference("other"));
  assert.equal(o.ref.name, "example.com/foo/other");
  assert.equal(o.endpoints.at(-1)?.repository, "bar/other", "alias then prefix rewrite");
});

test("registries.conf v1 format and bad values are clear errors", async (t) => {
  const root = await tempDir(t);
  const conf = join(root, "registries.conf");
  await writeFile(conf, `[registries.search]\nregistries = ["docker.io"]\n`);
  await assert.rejects(new RegistryHosts({ registriesConf: conf }).plan(parseReference("x")), /version 1 format/);
  await writeFile(conf, `[[registry]]\nlocation = "a.example"\n[[registry.mirror]]\nlocation = "m"\npull-from-mirror = "sometimes"\n`);
  await assert.rejects(new RegistryHosts({ registriesConf: conf }).plan(parseReference("a.example/x")), /pull-from-mirror must be/);
});

test("configuration edits take effect on the next plan without a restart", async (t) => {
  const root = await tempDir(t);
  const p = await hostsToml(root, "edit.example", `server = "http://edit.example:1"\n`);
  const h = new RegistryHosts({ configPath: root });
  assert.equal((await h.plan(parseReference("edit.example/x"))).endpoints[0]?.url, "http://edit.example:1/v2");
  await writeFile(p, `server = "http://edit.example:2"\n`);
  await utimes(p, new Date(), new Date(Date.now() + 5000)); // a different mtime even on coarse clocks
  assert.equal((await h.plan(parseReference("edit.example/x"))).endpoints[0]?.url, "http://edit.example:2/v2");
  await rm(p);
  assert.equal((await h.plan(parseReference("edit.example/x"))).endpoints[0]?.url, "https://edit.example/v2");
});
