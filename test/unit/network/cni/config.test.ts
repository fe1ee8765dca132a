// Config selection rules: name order across extensions, .conf wrapping, invalid files skipped
// with a reason, "no config" reported distinctly, and re-reading only on change.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadNetworkConfig, NetworkConfigSource, parseNetworkConfig } from "../../../../src/network/cni/config.js";

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "berth-cniconf-"));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

const list = (name: string) => JSON.stringify({ cniVersion: "1.0.0", name, plugins: [{ type: "bridge" }, { type: "portmap", capabilities: { portMappings: true } }] });

test("first file by name wins across .conflist, .conf and .json; other files ignored", async (t) => {
  const d = await tempDir(t);
  await writeFile(join(d, "20-b.conflist"), list("b"));
  await writeFile(join(d, "10-a.conf"), JSON.stringify({ cniVersion: "0.4.0", name: "a", type: "ptp", ipMasq: false }));
  await writeFile(join(d, "05-notes.txt"), "not a config");
  const r = await loadNetworkConfig([d]);
  assert.equal(r.kind, "ok");
  if (r.kind !== "ok") return;
  assert.equal(r.network.file, join(d, "10-a.conf"));
  // A single-plugin .conf is wrapped into a list; name/cniVersion stay on the list only.
  assert.deepEqual(r.network.list, { cniVersion: "0.4.0", name: "a", disableCheck: false, plugins: [{ type: "ptp", ipMasq: false }] });
});

test("invalid files are skipped with a reason naming the file and field", async (t) => {
  const d = await tempDir(t);
  await writeFile(join(d, "01-broken.conflist"), "{ not json");
  await writeFile(join(d, "02-noversion.conflist"), JSON.stringify({ name: "x", plugins: [{ type: "bridge" }] }));
  await writeFile(join(d, "03-notype.conflist"), JSON.stringify({ cniVersion: "1.0.0", name: "x", plugins: [{ type: "bridge" }, { bridge: "br" }] }));
  await writeFile(join(d, "04-path.conf"), JSON.stringify({ cniVersion: "1.0.0", name: "x", type: "../../bin/sh" }));
  await writeFile(join(d, "05-good.json"), list("good"));
  const r = await loadNetworkConfig([d]);
  assert.equal(r.kind, "ok");
  if (r.kind !== "ok") return;
  assert.equal(r.network.list.name, "good");
  assert.equal(r.network.list.plugins.length, 2, "a .json with plugins[] is a list");
  assert.equal(r.skipped.length, 4);
  assert.match(r.skipped[0]!.error, /01-broken\.conflist: not valid JSON/);
  assert.match(r.skipped[1]!.error, /02-noversion\.conflist: field "cniVersion"/);
  assert.match(r.skipped[2]!.error, /03-notype\.conflist: field "plugins\[1\]\.type"/);
  assert.match(r.skipped[3]!.error, /04-path\.conf: field "type"/);
});

test("no config is reported distinctly, for an empty dir, a missing dir and only-invalid files", async (t) => {
  const d = await tempDir(t);
  const empty = await loadNetworkConfig([d, join(d, "missing")]);
  assert.equal(empty.kind, "none");
  if (empty.kind === "none") assert.match(empty.reason, /^no network config found in /);
  await writeFile(join(d, "10-x.conflist"), JSON.stringify({ cniVersion: "1.0.0", name: "x", plugins: [] }));
  const bad = await loadNetworkConfig([d]);
  assert.equal(bad.kind, "none");
  if (bad.kind === "none") assert.match(bad.reason, /no valid network config .*field "plugins" must be a non-empty array/);
});

test("later dirs are searched when earlier ones have nothing valid", async (t) => {
  const a = await tempDir(t);
  const b = await tempDir(t);
  await writeFile(join(b, "99-z.conflist"), list("z"));
  const r = await loadNetworkConfig([a, b]);
  assert.equal(r.kind === "ok" && r.network.list.name, "z");
});

test("parseNetworkConfig validates name, version, capabilities and disableCheck", () => {
  assert.throws(() => parseNetworkConfig(JSON.stringify({ cniVersion: "1.0", name: "n", type: "x" }), "f.conf"), /field "cniVersion"/);
  assert.throws(() => parseNetworkConfig(JSON.stringify({ cniVersion: "1.0.0", name: "bad name", type: "x" }), "f.conf"), /field "name"/);
  assert.throws(
    () => parseNetworkConfig(JSON.stringify({ cniVersion: "1.0.0", name: "n", plugins: [{ type: "x", capabilities: { portMappings: "yes" } }] }), "f.conflist"),
    /field "plugins\[0\]\.capabilities\.portMappings" must be a boolean/,
  );
  assert.throws(() => parseNetworkConfig(JSON.stringify({ cniVersion: "1.0.0", name: "n", disableCheck: 1, plugins: [{ type: "x" }] }), "f.conflist"), /disableCheck/);
  assert.throws(() => parseNetworkConfig(JSON.stringify([1]), "f.conflist"), /must be a JSON object/);
  const ok = parseNetworkConfig(JSON.stringify({ cniVersion: "1.0.0", name: "n", disableCheck: true, plugins: [{ type: "x" }] }), "f.conflist");
  assert.equal(ok.disableCheck, true);
});

test("NetworkConfigSource picks up a config that appears, and an in-place edit, without restart", async (t) => {
  const d = await tempDir(t);
  const src = new NetworkConfigSource([d]);
  assert.equal((await src.current()).kind, "none");
  const f = join(d, "10-n.conflist");
  await writeFile(f, "");
  assert.equal((await src.current()).kind, "none", "an empty file being written is not a config yet");
  await writeFile(f, list("first"));
  // Same-size-in-mtime-granularity edits are still noticed by size here; force a distinct mtime too.
  await utimes(f, new Date(), new Date(Date.now() + 5000));
  const r = await src.current();
  assert.equal(r.kind === "ok" && r.network.list.name, "first");
  // Unchanged: the same object comes back (no re-parse).
  assert.equal(await src.current(), r);
  await rm(f);
  assert.equal((await src.current()).kind, "none");
});
