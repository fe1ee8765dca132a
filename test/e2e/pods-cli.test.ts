// The pod commands of the `berth` CLI against a real daemon: runp with crictl's JSON and a YAML
// config, pods with filters and output forms, inspectp, stopp, rmp (-f, -a).
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { runBerth } from "../fixtures/daemon.js";
import { podEnv } from "./pods-kit.js";

test("runp, pods, inspectp, stopp and rmp work like crictl's", async (t) => {
  const env = await podEnv(t);
  const { d } = env;
  const berth = async (...args: string[]) => {
    const r = await runBerth(args, { BERTH_RUNTIME_ENDPOINT: `unix://${d.socket}` });
    return r;
  };
  const ok = async (...args: string[]) => {
    const r = await berth(...args);
    assert.equal(r.code, 0, `berth ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };

  // crictl's sample pod config: snake_case keys, enums as numbers.
  const json = join(d.dir, "pod.json");
  await writeFile(
    json,
    JSON.stringify({
      metadata: { name: "nginx-sandbox", namespace: "default", attempt: 1, uid: "hdishd83djaidwnduwk28bcsb" },
      log_directory: "/tmp",
      port_mappings: [{ protocol: 0, container_port: 80, host_port: 0 }],
      labels: { tier: "web" },
      linux: { security_context: { namespace_options: { pid: 1 } } },
    }),
  );
  const yaml = join(d.dir, "pod.yaml");
  await writeFile(
    yaml,
    ["metadata:", "  name: db", "  namespace: prod", "  uid: uid-db", "hostname: db-0", "dnsConfig:", "  servers: [10.0.0.10]", "labels:", "  tier: db", ""].join("\n"),
  );
  const web = (await ok("runp", json)).trim();
  assert.match(web, /^[0-9a-f]{64}$/);
  const db = (await ok("runp", yaml)).trim();

  const table = await ok("pods");
  assert.match(table, /^POD ID\s+CREATED\s+STATE\s+NAME\s+NAMESPACE\s+ATTEMPT\s+RUNTIME$/m);
  assert.match(table, new RegExp(`^${web.slice(0, 13)}\\s+.*ago\\s+Ready\\s+nginx-sandbox\\s+default\\s+1\\s+runc$`, "m"));
  assert.deepEqual((await ok("pods", "-q")).trim().split("\n").sort(), [web, db].sort());
  assert.equal((await ok("pods", "-q", "--name", "^nginx")).trim(), web);
  assert.equal((await ok("pods", "-q", "--namespace", "prod")).trim(), db);
  assert.equal((await ok("pods", "-q", "--label", "tier=db")).trim(), db);
  assert.equal((await ok("pods", "-q", "--id", web.slice(0, 8))).trim(), web);
  assert.equal((await ok("pods", "-q", "--latest")).trim(), db);
  const listed = JSON.parse(await ok("pods", "-o", "json")) as { items: Array<{ id: string; state: string }> };
  assert.deepEqual(listed.items.map((p) => p.state), ["SANDBOX_READY", "SANDBOX_READY"]);
  assert.match(await ok("pods", "--no-trunc"), new RegExp(web));

  const inspected = JSON.parse(await ok("inspectp", db.slice(0, 10))) as {
    status: { id: string; network: { ip: string }; metadata: { name: string } };
    info: { pid: number; netnsPath: string; files: { resolvConf: string } };
  };
  assert.equal(inspected.status.id, db);
  assert.ok(inspected.status.network.ip.startsWith(env.prefix), "inspectp shows the pod IP");
  assert.ok(inspected.info.netnsPath.includes(db));

  const refused = await berth("rmp", web);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /is running; stop it first/);
  assert.equal((await ok("stopp", web)).trim(), `Stopped sandbox ${web}`);
  assert.match(await ok("pods", "--state", "notready"), /nginx-sandbox/);
  assert.equal((await ok("rmp", web)).trim(), `Removed sandbox ${web}`);
  assert.equal((await ok("rmp", "-a", "-f")).trim(), `Removed sandbox ${db}`);
  assert.equal((await ok("pods", "-q")).trim(), "");

  const bad = await berth("inspectp", "ffffffff");
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /pod sandbox "ffffffff" not found/);
  const usage = await berth("runp");
  assert.equal(usage.code, 2);
  await env.leaks.assertNoLeaks();
});

test("berth network init writes the default network only into an empty conf dir", async (t) => {
  const env = await podEnv(t, { conf: false });
  const confDir = join(env.d.dir, "init.d");
  const config = join(env.d.dir, "init.toml");
  await writeFile(config, `[network]\nconf_dir = "${confDir}"\n`);
  const first = await runBerth(["network", "init", "--config", config]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout.trim(), `wrote ${join(confDir, "10-berth.conflist")}`);
  const conf = JSON.parse(await readFile(join(confDir, "10-berth.conflist"), "utf8")) as { plugins: Array<{ type: string; ipMasq?: boolean; ipam?: { ranges: unknown } }> };
  assert.deepEqual(conf.plugins.map((p) => p.type), ["bridge", "portmap"]);
  assert.equal(conf.plugins[0]!.ipMasq, false);
  assert.deepEqual(conf.plugins[0]!.ipam!.ranges, [[{ subnet: "10.88.0.0/16" }]]);
  await writeFile(join(confDir, "10-berth.conflist"), "{}");
  const second = await runBerth(["network", "init", "--config", config]);
  assert.equal(second.code, 0);
  assert.match(second.stdout, /already holds a network config; left as is/);
  assert.equal(await readFile(join(confDir, "10-berth.conflist"), "utf8"), "{}");
});
