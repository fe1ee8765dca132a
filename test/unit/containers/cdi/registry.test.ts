// The spec directories on disk: files found by extension, a bad file skipped (never fatal),
// a changed file re-read on the next request, and the CreateContainer entry point.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile, mkdir, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CdiRegistry, resolveCdi } from "../../../../src/containers/cdi/registry.js";
import { BerthError, Code } from "../../../../src/errors.js";
import { ctr } from "../spec/fixtures.js";

const spec = (env: string, name = "d") => JSON.stringify({ cdiVersion: "0.3.0", kind: "v.com/c", devices: [{ name, containerEdits: { env: [env] } }] });

test("scan: .json and .yaml files only, bad files skipped and reported, changes picked up, later dir wins", async (t) => {
  const root = await mkdtemp(join(tmpdir(), "berth-cdi-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const [a, b] = [join(root, "etc"), join(root, "run")];
  await mkdir(a);
  await writeFile(join(a, "v.json"), spec("V=1"));
  await writeFile(join(a, "v.txt"), "not a spec");
  await writeFile(join(a, "bad.yaml"), "cdiVersion: 0.3.0\nkind: nokind\ndevices: []\n");
  await mkdir(join(a, "sub.yaml"));
  const reg = new CdiRegistry([a, b, join(root, "missing")]);
  let cat = await reg.catalog();
  assert.deepEqual([...cat.devices.keys()], ["v.com/c=d"]);
  assert.deepEqual([...cat.errors.keys()], [join(a, "bad.yaml")]);

  const config = ctr({ CDIDevices: [{ name: "v.com/c=d" }] });
  assert.deepEqual((await reg.resolve(config))!.parts.map((p) => p.edits.env), [[], ["V=1"]]);
  await writeFile(join(a, "v.json"), spec("V=2"));
  await utimes(join(a, "v.json"), new Date(), new Date(Date.now() + 5000)); // same size: the mtime tells
  assert.deepEqual((await reg.resolve(config))!.parts[1]!.edits.env, ["V=2"], "an edited file is re-read");
  await mkdir(b);
  await writeFile(join(b, "v.yaml"), `cdiVersion: "0.3.0"\nkind: v.com/c\ndevices:\n  - name: d\n    containerEdits: { env: ["FROM=run"] }\n`);
  assert.deepEqual((await reg.resolve(config))!.parts[1]!.edits.env, ["FROM=run"], "the later directory overrides");
  await rm(join(b, "v.yaml"));
  cat = await reg.catalog();
  assert.equal(cat.devices.get("v.com/c=d")!.spec.path, join(a, "v.json"), "a removed file stops counting");
});

test("resolveCdi: nothing asked, nothing read; asked without a registry, a clear FailedPrecondition", async () => {
  assert.equal(await resolveCdi(new CdiRegistry(["/nonexistent-cdi"]), ctr()), undefined);
  assert.equal(await resolveCdi(undefined, ctr()), undefined);
  await assert.rejects(resolveCdi(undefined, ctr({ annotations: { "cdi.k8s.io/p": "v.com/c=d" } })), (e: unknown) => e instanceof BerthError && e.code === Code.FAILED_PRECONDITION && /cdi\.spec_dirs/.test(e.message));
  await assert.rejects(resolveCdi(new CdiRegistry(["/nonexistent-cdi"]), ctr({ CDIDevices: [{ name: "v.com/c=d" }] })), (e: unknown) => e instanceof BerthError && e.code === Code.INVALID_ARGUMENT && /not found in the CDI specs in \/nonexistent-cdi/.test(e.message));
});
