// The version Berth reports is package.json's: one place to bump, checked against the file itself.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { test } from "node:test";
import { BERTH_VERSION, packageVersion } from "../../src/version.js";

test("BERTH_VERSION is package.json's version; another package.json gives another version; none is an error", async () => {
  const pkg = JSON.parse(await readFile(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string };
  assert.equal(BERTH_VERSION, pkg.version);
  const dir = await mkdtemp(join(tmpdir(), "berth-version-"));
  try {
    await writeFile(join(dir, "package.json"), JSON.stringify({ name: "berth", version: "9.8.7-rc.1" }));
    assert.equal(packageVersion(pathToFileURL(join(dir, "package.json"))), "9.8.7-rc.1");
    await writeFile(join(dir, "package.json"), JSON.stringify({ name: "berth" }));
    assert.throws(() => packageVersion(pathToFileURL(join(dir, "package.json"))), /no "version" string/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
