// crictl's client config file: read (missing = empty, unknown keys ignored, broken = clear error)
// and `berth config --get/--set/--list` written back as YAML crictl reads.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { clientConfigCommand, readClientConfig } from "../../../src/cli/client-config.js";

test("client config: read, --set (commas, types), --get, --list, bad keys and values", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berth-cc-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const f = join(dir, "crictl.yaml");
  assert.deepEqual(readClientConfig(f), {});
  await writeFile(f, "runtime-endpoint: unix:///run/x.sock\ntimeout: 4\nfoo: bar\n");
  assert.deepEqual(readClientConfig(f), { "runtime-endpoint": "unix:///run/x.sock", timeout: 4 });
  assert.equal(clientConfigCommand(f, { set: ["debug=true,image-endpoint=unix:///i.sock", "timeout=9"] }), "");
  assert.deepEqual(parse(await readFile(f, "utf8")), { "runtime-endpoint": "unix:///run/x.sock", timeout: 9, debug: true, "image-endpoint": "unix:///i.sock" });
  assert.equal(clientConfigCommand(f, { get: "timeout" }), "9\n");
  assert.equal(clientConfigCommand(f, { get: "pull-image-on-create" }), "");
  assert.match(clientConfigCommand(f, { list: true }), /^runtime-endpoint: unix:\/\/\/run\/x.sock\nimage-endpoint: unix:\/\/\/i.sock\ntimeout: 9\ndebug: true\n/);
  assert.throws(() => clientConfigCommand(f, { get: "nope" }), /no client config key "nope"/);
  assert.throws(() => clientConfigCommand(f, { set: ["debug=yes"] }), /debug: expected true or false/);
  assert.throws(() => clientConfigCommand(f, { set: ["timeout=2s"] }), /timeout: expected whole seconds/);
  assert.throws(() => clientConfigCommand(f, { set: ["novalue"] }), /expected key=value/);
  await writeFile(f, "- a\n- b\n");
  assert.throws(() => readClientConfig(f), /expected a YAML mapping/);
  await writeFile(f, "a: [\n");
  assert.throws(() => readClientConfig(f), /not valid YAML/);
});
