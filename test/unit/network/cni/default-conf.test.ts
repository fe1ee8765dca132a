// The default conflist: written only into an empty conf dir, loadable, and safe on this
// kind of host (no masquerade, no hairpin).
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadNetworkConfig } from "../../../../src/network/cni/config.js";
import { DEFAULT_CONF_NAME, writeDefaultConflist } from "../../../../src/network/cni/default-conf.js";

test("written into an empty (or missing) dir, loads as the default network", async (t) => {
  const d = await mkdtemp(join(tmpdir(), "berth-defconf-"));
  t.after(() => rm(d, { recursive: true, force: true }));
  const conf = join(d, "net.d");
  assert.equal(await writeDefaultConflist(conf), join(conf, DEFAULT_CONF_NAME));
  const r = await loadNetworkConfig([conf]);
  assert.equal(r.kind, "ok");
  if (r.kind !== "ok") return;
  const [bridge, portmap] = r.network.list.plugins;
  assert.equal(r.network.list.cniVersion, "1.0.0");
  assert.equal(bridge?.type, "bridge");
  assert.equal(bridge?.["bridge"], "berth0");
  assert.equal(bridge?.["isGateway"], true);
  assert.equal(bridge?.["ipMasq"], false);
  assert.equal(bridge?.["hairpinMode"], false);
  assert.deepEqual(bridge?.["ipam"], { type: "host-local", ranges: [[{ subnet: "10.88.0.0/16" }]], routes: [{ dst: "0.0.0.0/0" }] });
  assert.deepEqual(portmap, { type: "portmap", capabilities: { portMappings: true } });
  // A second call leaves the existing file alone.
  assert.equal(await writeDefaultConflist(conf, { subnet: "10.99.0.0/16" }), undefined);
});

test("not written when any config file exists, even an invalid one", async (t) => {
  const d = await mkdtemp(join(tmpdir(), "berth-defconf-"));
  t.after(() => rm(d, { recursive: true, force: true }));
  await writeFile(join(d, "99-other.conf"), "{}");
  assert.equal(await writeDefaultConflist(d), undefined);
  assert.deepEqual(await readdir(d), ["99-other.conf"]);
});
