// images.gc_interval and images.sync: defaults, TOML booleans and "true"/"false" from the
// environment, and clear refusals of anything else.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../../src/config/config.js";

const dir = mkdtempSync(join(tmpdir(), "berth-cfg-gc-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("defaults: GC every hour, sync on", () => {
  const c = loadConfig({ env: {}, defaultFile: join(dir, "absent.toml") });
  assert.equal(c.images.gcIntervalMs, 3_600_000);
  assert.equal(c.images.sync, true);
});

test("a TOML boolean, an environment string, \"0s\" to disable; other values refused", () => {
  const f = join(dir, "c.toml");
  writeFileSync(f, "[images]\nsync = false\ngc_interval = \"0s\"\n");
  const c = loadConfig({ file: f, env: {} });
  assert.equal(c.images.sync, false);
  assert.equal(c.images.gcIntervalMs, 0);
  assert.equal(loadConfig({ file: f, env: { BERTH_IMAGES_SYNC: "true", BERTH_IMAGES_GC_INTERVAL: "5m" } }).images.sync, true);
  assert.throws(() => loadConfig({ file: f, env: { BERTH_IMAGES_SYNC: "yes" } }), (e: unknown) => e instanceof ConfigError && /images\.sync.*expected true or false/.test(e.message));
  writeFileSync(f, "[images]\nsync = 1\n");
  assert.throws(() => loadConfig({ file: f, env: {} }), ConfigError);
});
