// End-to-end checks of the daemon itself: the real `berth daemon` on a temp socket, driven by
// a real gRPC client — the runtime RPCs, unimplemented and malformed calls, socket rules, signals.
import { test } from "node:test";
import assert from "node:assert/strict";
import { statSync, writeFileSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { connect } from "node:net";
import { status, Client, credentials, type ServiceError } from "@grpc/grpc-js";
import { startDaemon, runBerth } from "../fixtures/daemon.js";
import { crictlOrSkip } from "../fixtures/crictl.js";
import { call } from "../../src/cli/client.js";
import { CgroupDriver } from "../../src/generated/runtime/v1/api.js";
import { BERTH_VERSION } from "../../src/version.js";

test("Version, Status, RuntimeConfig and UpdateRuntimeConfig answer over the socket", async (t) => {
  const d = await startDaemon();
  t.after(() => d.stop());
  const c = d.client;

  const v = await call(c, c.runtime, c.runtime.version, { version: "v1" });
  assert.equal(v.runtimeName, "berth");
  assert.equal(v.runtimeApiVersion, "v1");
  assert.match(v.runtimeVersion, /^\d+\.\d+\.\d+/);
  assert.equal(v.runtimeVersion, BERTH_VERSION, "package.json's version");

  const s = await call(c, c.runtime, c.runtime.status, { verbose: true });
  const byType = new Map(s.status!.conditions.map((x) => [x.type, x]));
  assert.equal(byType.get("RuntimeReady")?.status, true);
  const net = byType.get("NetworkReady");
  assert.equal(net?.status, false, "no CNI config in the temp conf dir");
  assert.equal(net?.reason, "NetworkPluginNotReady");
  assert.match(net?.message ?? "", /net\.d/);
  const cfg = JSON.parse(s.info["config"] ?? "{}") as { root: string; socket: string };
  assert.equal(cfg.root, d.root);
  assert.equal(cfg.socket, d.socket);

  const quiet = await call(c, c.runtime, c.runtime.status, { verbose: false });
  assert.deepEqual(quiet.info, {});

  // NetworkReady flips without a restart once a network config appears.
  mkdirSync(join(d.dir, "net.d"), { recursive: true });
  writeFileSync(join(d.dir, "net.d", "10-test.conflist"), JSON.stringify({ cniVersion: "1.0.0", name: "t", plugins: [{ type: "loopback" }] }));
  const s2 = await call(c, c.runtime, c.runtime.status, { verbose: false });
  assert.equal(s2.status!.conditions.find((x) => x.type === "NetworkReady")?.status, true);

  const rc = await call(c, c.runtime, c.runtime.runtimeConfig, {});
  assert.ok(rc.linux?.cgroupDriver === CgroupDriver.CGROUPFS || rc.linux?.cgroupDriver === CgroupDriver.SYSTEMD);

  await call(c, c.runtime, c.runtime.updateRuntimeConfig, { runtimeConfig: { networkConfig: { podCidr: "10.88.0.0/16" } } });
  const s3 = await call(c, c.runtime, c.runtime.status, { verbose: true });
  assert.equal((JSON.parse(s3.info["config"]!) as { podCidr: string }).podCidr, "10.88.0.0/16");
  await assert.rejects(
    call(c, c.runtime, c.runtime.updateRuntimeConfig, { runtimeConfig: { networkConfig: { podCidr: "not-a-cidr" } } }),
    (e: ServiceError) => e.code === status.INVALID_ARGUMENT && /pod_cidr/.test(e.details),
  );
});

test("every CRI RPC is served (CheckpointContainer included); unknown methods answer UNIMPLEMENTED; malformed requests do not hurt", async (t) => {
  const d = await startDaemon();
  t.after(() => d.stop());
  const c = d.client;
  // The last RPC that fell to the UNIMPLEMENTED default now answers for itself.
  await assert.rejects(
    call(c, c.runtime, c.runtime.checkpointContainer, { containerId: "x", location: "/tmp/x.tar", timeout: 0n }),
    (e: ServiceError) => e.code === status.NOT_FOUND && /container "x" not found/.test(e.details),
  );

  // Bytes that are not a valid protobuf message for the method.
  const raw = new Client(`unix://${d.socket}`, credentials.createInsecure());
  t.after(() => raw.close());
  const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x0a, 0x80]);
  const err = await new Promise<ServiceError | null>((res) =>
    raw.makeUnaryRequest(
      "/runtime.v1.RuntimeService/Version",
      (b: Buffer) => b,
      (b: Buffer) => b,
      garbage,
      { deadline: Date.now() + 5000 },
      (e) => res(e),
    ),
  );
  assert.ok(err, "a malformed request must fail");
  assert.notEqual(err.code, status.DEADLINE_EXCEEDED, "a malformed request must not hang");
  // Unknown method path.
  const err2 = await new Promise<ServiceError | null>((res) =>
    raw.makeUnaryRequest("/runtime.v1.RuntimeService/NoSuchThing", (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), { deadline: Date.now() + 5000 }, (e) => res(e)),
  );
  assert.equal(err2?.code, status.UNIMPLEMENTED);
  // A client that sends half an HTTP/2 preface and vanishes.
  await new Promise<void>((res) => {
    const s = connect(d.socket, () => s.end("PRI * HTTP/2.0\r\n", () => res()));
  });
  const v = await call(c, c.runtime, c.runtime.version, { version: "" });
  assert.equal(v.runtimeName, "berth", "daemon still serves after bad input");
});

test("the socket is mode 0660; a second daemon on it refuses; a stale socket file is replaced", async (t) => {
  const d = await startDaemon();
  t.after(() => d.stop());
  assert.equal(statSync(d.socket).mode & 0o777, 0o660);

  const second = await runBerth(["daemon", "--socket", d.socket, "--root", join(d.dir, "r2"), "--state", join(d.dir, "s2")]);
  assert.equal(second.code, 1);
  assert.match(second.stderr, /already serving/);
  assert.match(second.stderr, new RegExp(`pid ${d.proc.pid}`));

  // Kill -9 leaves the socket file behind; the next start must replace it.
  const crashed = await startDaemon();
  crashed.proc.kill("SIGKILL");
  await new Promise((r) => crashed.proc.once("exit", r));
  assert.ok(statSync(crashed.socket).isSocket(), "stale socket left behind");
  const again = await startDaemon({ socket: crashed.socket });
  t.after(() => again.stop());
  t.after(() => crashed.stop());
  const v = await call(again.client, again.client.runtime, again.client.runtime.version, { version: "" });
  assert.equal(v.runtimeName, "berth");
});

test("a bad config exits non-zero naming the key, the value and what is allowed", async (t) => {
  const d = await startDaemon();
  await d.stop();
  t.after(() => rmSync(d.dir + "-bad", { recursive: true, force: true }));
  for (const [toml, pattern] of [
    ['[log]\nlevel = "loud"', /"log\.level".*"loud".*one of/],
    ['[network]\nbin_dir = ["/x"]', /unknown config key "network\.bin_dir".*did you mean "network\.bin_dirs"/],
    ['[registry]\nmax_concurrent_downloads = 0', /"registry\.max_concurrent_downloads".*from 1 to 64/],
    ["root = relative/path", /not valid TOML/],
  ] as const) {
    const dir = d.dir + "-bad";
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "config.toml");
    writeFileSync(file, toml);
    const r = await runBerth(["daemon", "--config", file, "--socket", join(dir, "s.sock")]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, pattern);
  }
  const r = await runBerth(["daemon", "--config", "/nonexistent/berth.toml"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot read config file \/nonexistent\/berth\.toml/);
  const flag = await runBerth(["daemon", "--log-level", "chatty", "--socket", "/tmp/never.sock"]);
  assert.equal(flag.code, 1);
  assert.match(flag.stderr, /"log\.level" \(command line\): "chatty"/);
});

test("SIGTERM: the daemon exits 0 promptly and removes its socket", async () => {
  const d = await startDaemon();
  const socket = d.socket;
  const t0 = Date.now();
  d.proc.kill("SIGTERM");
  const code = await new Promise<number | null>((r) => d.proc.once("exit", (c) => r(c)));
  assert.equal(code, 0);
  assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
  assert.throws(() => statSync(socket), /ENOENT/);
  await d.stop();
});

test("berth version and berth info talk to the daemon; config default round-trips", async (t) => {
  const d = await startDaemon();
  t.after(() => d.stop());
  const v = await runBerth(["version", "-r", `unix://${d.socket}`]);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /RuntimeName:\s+berth/);
  const vj = await runBerth(["version", "-o", "json"], { BERTH_RUNTIME_ENDPOINT: d.socket });
  assert.equal((JSON.parse(vj.stdout) as { runtimeName: string }).runtimeName, "berth");
  const info = await runBerth(["info", "-r", d.socket, "-o", "yaml"]);
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /RuntimeReady/);
  const infoJson = JSON.parse((await runBerth(["info", "-r", d.socket, "-o", "json"])).stdout) as { runtimeHandlers: Array<{ name: string }>; features: { supplementalGroupsPolicy: boolean }; handlerProbes: Array<{ name: string; usable: boolean }> };
  assert.deepEqual(infoJson.runtimeHandlers.map((h) => h.name).slice(0, 2), ["", "runc"], "the default handler as \"\", then runc");
  assert.equal(infoJson.features.supplementalGroupsPolicy, true);
  assert.equal(infoJson.handlerProbes.find((h) => h.name === "runc")?.usable, true);
  const down = await runBerth(["version", "-r", join(d.dir, "nothing.sock"), "-t", "2s"]);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /berth: /);

  const def = await runBerth(["config", "default"]);
  assert.equal(def.code, 0);
  const file = join(d.dir, "default.toml");
  writeFileSync(file, def.stdout);
  const check = await runBerth(["config", "check", "--config", file]);
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, /ok/);
});

// The reference Go client, from scripts/setup.sh (test/fixtures/crictl.ts).
test("crictl 1.26.1 (grpc-go) version and info work against the daemon", async (t) => {
  const CRICTL = crictlOrSkip(t);
  if (!CRICTL) return;
  const { execFile } = await import("node:child_process");
  const { promisify } = await import("node:util");
  const run = promisify(execFile);
  const d = await startDaemon();
  t.after(() => d.stop());
  const v = await run(CRICTL, ["--runtime-endpoint", `unix://${d.socket}`, "version"]);
  assert.match(v.stdout, /RuntimeName:\s+berth/);
  assert.match(v.stdout, /RuntimeApiVersion:\s+v1/);
  const info = await run(CRICTL, ["--runtime-endpoint", `unix://${d.socket}`, "info"]);
  const doc = JSON.parse(info.stdout) as { status: { conditions: { type: string; status: boolean }[] } };
  assert.equal(doc.status.conditions.find((c) => c.type === "RuntimeReady")?.status, true);
});
