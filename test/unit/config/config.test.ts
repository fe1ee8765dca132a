// Unit tests for config loading: defaults, file, environment and flag precedence, and the
// errors a user sees for unknown keys and bad values.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "smol-toml";
import { loadConfig, parseDuration, ConfigError } from "../../../src/config/config.js";
import { defaultConfigToml } from "../../../src/config/default-file.js";
import { KEYS } from "../../../src/config/keys.js";

const dir = mkdtempSync(join(tmpdir(), "berth-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

test("a missing default file means defaults", () => {
  const c = loadConfig({ env: {}, defaultFile: join(dir, "absent.toml") });
  assert.equal(c.source.fileFound, false);
  assert.equal(c.root, "/var/lib/berth");
  assert.equal(c.socket, "/run/berth/berth.sock");
  assert.deepEqual(c.network.binDirs, ["/usr/lib/cni", "/opt/cni/bin"]);
  assert.equal(c.registry.stallTimeoutMs, 30_000);
});

test("file < environment < flags", () => {
  const f = file("prec.toml", 'root = "/a"\nstate = "/s"\n[log]\nlevel = "warn"\n[network]\nbin_dirs = ["/x", "/y"]\n');
  const c = loadConfig({ file: f, env: { BERTH_ROOT: "/b", BERTH_LOG_LEVEL: "debug" }, overrides: new Map([["root", "/c"]]) });
  assert.equal(c.root, "/c");
  assert.equal(c.state, "/s");
  assert.equal(c.log.level, "debug");
  assert.deepEqual(c.network.binDirs, ["/x", "/y"]);
  assert.equal(c.source.fileFound, true);
  const e = loadConfig({ file: f, env: { BERTH_NETWORK_BIN_DIRS: "/p,/q" } });
  assert.deepEqual(e.network.binDirs, ["/p", "/q"]);
});

test("unknown keys and bad values name the key, the value and what is allowed", () => {
  const cases: [string, RegExp][] = [
    ["sockett = \"/x\"", /unknown config key "sockett"/],
    ["[runtime]\ncgroup_driver = \"cgroupv3\"", /"runtime\.cgroup_driver".*"cgroupv3".*"cgroupfs", "systemd"/],
    ["root = \"relative\"", /"root".*absolute path/],
    ["[streaming]\naddress = \"nowhere\"", /"streaming\.address".*host:port/],
    ["[registry]\nstall_timeout = \"forever\"", /"registry\.stall_timeout".*duration/],
    ["[log]\nlevel = 3", /"log\.level".*3/],
    ["[network.extra]\nx = 1", /unknown config key "network\.extra"/],
    ["log = \"debug\"", /"log".*table|unknown config key "log"/],
  ];
  for (const [text, pattern] of cases) {
    const f = file("bad.toml", text);
    assert.throws(() => loadConfig({ file: f, env: {} }), (e: unknown) => e instanceof ConfigError && pattern.test(e.message) && e.message.includes(f) || (console.error(e), false));
  }
  assert.throws(() => loadConfig({ env: { BERTH_PODS_SHM_SIZE: "tiny" } }), /environment BERTH_PODS_SHM_SIZE/);
  assert.throws(() => loadConfig({ env: {}, overrides: new Map([["nope", "1"]]) }), /unknown config key "nope" \(command line\)/);
});

test("the printed default file parses back to the defaults and documents every key", () => {
  const text = defaultConfigToml();
  const f = file("default.toml", text);
  const fromFile = loadConfig({ file: f, env: {} });
  const defaults = loadConfig({ env: {}, defaultFile: join(dir, "absent.toml") });
  assert.deepEqual({ ...fromFile, source: null }, { ...defaults, source: null });
  const doc = parse(text) as Record<string, unknown>;
  for (const k of KEYS) {
    const parts = k.path.split(".");
    let v: unknown = doc;
    for (const p of parts) v = (v as Record<string, unknown>)[p];
    assert.notEqual(v, undefined, `default file lacks ${k.path}`);
    assert.ok(text.includes(`# ${k.doc}`), `no doc line for ${k.path}`);
  }
});

test("durations", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("1.5s"), 1500);
  assert.equal(parseDuration("2m"), 120_000);
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration("10"), undefined);
  assert.equal(parseDuration("-1s"), undefined);
});

test("the README documents every config key with its default", async () => {
  const { readFileSync } = await import("node:fs");
  const readme = readFileSync(join(import.meta.dirname, "../../../../README.md"), "utf8");
  for (const k of KEYS) {
    assert.ok(readme.includes(`| \`${k.path}\` | \`${JSON.stringify(k.default)}\` |`), `README lacks key ${k.path} with its default`);
  }
});

test("runtime.handlers: tables per handler, checked; JSON from the environment; errors name the handler key", () => {
  const f = file("handlers.toml", '[runtime]\ndefault_handler = "runc"\n[runtime.handlers.crun]\nruntime_path = "/usr/bin/crun"\noptions = ["--debug"]\n[runtime.handlers.kata-fc]\nruntime_path = "kata-runtime"\nruntime_root = "/run/kata"\n');
  const c = loadConfig({ file: f, env: {} });
  assert.deepEqual(c.runtime.handlers, {
    crun: { runtimePath: "/usr/bin/crun", runtimeRoot: "", options: ["--debug"] },
    "kata-fc": { runtimePath: "kata-runtime", runtimeRoot: "/run/kata", options: [] },
  });
  assert.equal(c.runtime.defaultHandler, "runc");
  const e = loadConfig({ file: f, env: { BERTH_RUNTIME_HANDLERS: '{"alt": {"runtime_path": "runc"}}' } });
  assert.deepEqual(e.runtime.handlers, { alt: { runtimePath: "runc", runtimeRoot: "", options: [] } });
  assert.deepEqual(loadConfig({ env: {}, defaultFile: join(dir, "absent.toml") }).runtime.handlers, {});
  const bad = (toml: string, re: RegExp) => assert.throws(() => loadConfig({ file: file("bad-handlers.toml", toml), env: {} }), (err: unknown) => err instanceof ConfigError && re.test(err.message));
  bad('[runtime.handlers.x]\nruntime_root = "/r"\n', /"runtime\.handlers\.x\.runtime_path".*required/);
  bad('[runtime.handlers.x]\nruntime_path = "runc"\nroot = "/r"\n', /"runtime\.handlers\.x\.root".*unknown key/);
  bad('[runtime.handlers.x]\nruntime_path = "runc"\nruntime_root = "rel"\n', /runtime_root.*not an absolute path/);
  bad('[runtime.handlers.x]\nruntime_path = "runc"\noptions = ["debug"]\n', /options.*global flags/);
  bad('[runtime.handlers.Bad_Name]\nruntime_path = "runc"\n', /"runtime\.handlers\.Bad_Name".*DNS label/);
  bad('[runtime]\nhandlers = "runc"\n', /runtime\.handlers.*not a JSON object|expected tables/);
});
