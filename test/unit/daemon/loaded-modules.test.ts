// What the daemon's code loads decides its resident memory: no client (CLI) code, no YAML
// library, and no undici (which an ESM import of node:http pulls in through its WebSocket getters).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";

const DIST = join(import.meta.dirname, "../../../src");

/** Imports `module` (without running anything) in a fresh node; returns the files and node built-ins it loaded. */
function loadedBy(module: string): { files: string[]; builtins: string[] } {
  const script = `
    import { registerHooks } from "node:module";
    const files = [];
    registerHooks({ load(url, ctx, next) { files.push(url); return next(url, ctx); } });
    await import(${JSON.stringify(pathToFileURL(join(DIST, module)).href)});
    process.stdout.write(JSON.stringify({ files, builtins: process.moduleLoadList }));`;
  return JSON.parse(execFileSync(process.execPath, ["--disable-warning=ExperimentalWarning", "--input-type=module", "-e", script], { encoding: "utf8" })) as { files: string[]; builtins: string[] };
}

test("the daemon loads no CLI code, no YAML library and no undici", () => {
  const { files, builtins } = loadedBy("daemon/command.js");
  assert.ok(files.some((f) => f.endsWith("/src/daemon/daemon.js")), "the daemon's own modules load");
  assert.deepEqual(files.filter((f) => f.includes("/src/cli/")), []);
  assert.deepEqual(files.filter((f) => f.includes("/node_modules/yaml/")), []);
  assert.ok(builtins.includes("NativeModule http"), "node:http is loaded (streaming, registry)");
  assert.ok(!builtins.includes("NativeModule internal/deps/undici/undici"), "undici is not loaded");
});
