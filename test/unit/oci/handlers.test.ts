// Runtime handler probing: the set Berth offers (runc always, configured ones win by name) and the
// start-up probe, which runs a real container and reports a runtime that refuses this host as unusable.
import assert from "node:assert/strict";
import { chmod, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { handlerSpecs, kernelAtLeast, probeHandler } from "../../../src/oci/handlers.js";
import { which } from "../../../src/util/which.js";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-handlers-unit-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("the handler set: runc from runtime.runc_path; a configured handler of the same name wins; roots default under runtimes/", () => {
  const base = { runcPath: "/usr/sbin/runc", runcRoot: "/run/berth/runc", runtimesDir: "/run/berth/runtimes" };
  const plain = handlerSpecs({ ...base, configured: {} });
  assert.deepEqual(plain.find((h) => h.name === "runc"), { name: "runc", runtimePath: "/usr/sbin/runc", runtimeRoot: "/run/berth/runc", options: [] });
  assert.equal(plain.some((h) => h.name === "crun"), which("crun") !== undefined, "crun only where it is installed");
  const conf = handlerSpecs({ ...base, configured: { runc: { runtimePath: "/opt/runc", runtimeRoot: "", options: ["--debug"] }, alt: { runtimePath: "runc", runtimeRoot: "/r", options: [] } } });
  assert.deepEqual(conf.find((h) => h.name === "runc"), { name: "runc", runtimePath: "/opt/runc", runtimeRoot: "/run/berth/runtimes/runc", options: ["--debug"] });
  assert.deepEqual(conf.find((h) => h.name === "alt")?.runtimeRoot, "/r");
});

test("kernel versions", () => {
  assert.ok(kernelAtLeast("6.18.44-fc", 5, 12));
  assert.ok(kernelAtLeast("5.12.0", 5, 12));
  assert.ok(!kernelAtLeast("5.11.9", 5, 12));
  assert.ok(!kernelAtLeast("garbage", 5, 12));
});

test("probe: runc runs the probe container (rro as `runc features` says); a refusing runtime and a missing one are unusable with the reason", async () => {
  const catatonit = which("catatonit");
  assert.ok(catatonit, "catatonit is installed by scripts/setup.sh");
  const runc = await probeHandler({ name: "runc", runtimePath: "runc", runtimeRoot: join(dir, "root-runc"), options: [] }, dir, catatonit, "6.1.0");
  assert.equal(runc.usable, true, runc.reason);
  assert.match(runc.version, /^runc version/);
  assert.equal(runc.features.userNamespaces, false);
  assert.deepEqual(await readdir(join(dir, "root-runc")), [], "the probe container is gone from the runtime's root");
  const old = await probeHandler({ name: "runc", runtimePath: "runc", runtimeRoot: join(dir, "root-old"), options: [] }, dir, catatonit, "5.4.0");
  assert.equal(old.features.recursiveReadOnlyMounts, false, "rro needs Linux 5.12");

  const fake = join(dir, "refusing");
  await writeFile(fake, "#!/bin/sh\n[ \"$1\" = --version ] && { echo 'refusing 1.0'; exit 0; }\necho '{\"level\":\"error\",\"msg\":\"cgroups hybrid mode not supported\"}' >&2\nexit 1\n");
  await chmod(fake, 0o755);
  const refusing = await probeHandler({ name: "refusing", runtimePath: fake, runtimeRoot: join(dir, "root-refusing"), options: [] }, dir, catatonit);
  assert.equal(refusing.usable, false);
  assert.match(refusing.reason, /probe container failed: cgroups hybrid mode not supported/);
  assert.deepEqual(refusing.features, { recursiveReadOnlyMounts: false, userNamespaces: false });
  const missing = await probeHandler({ name: "gone", runtimePath: "/nonexistent/runtime", runtimeRoot: join(dir, "root-gone"), options: [] }, dir, catatonit);
  assert.equal(missing.usable, false);
  assert.match(missing.reason, /runtime binary "\/nonexistent\/runtime" not found/);
  assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith("runc-") || n.startsWith("refusing-")), [], "probe bundles are removed");
});
