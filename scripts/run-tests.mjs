// Runs every compiled test file (unit, then integration, then end-to-end) with node's test runner;
// `npm test` calls this after the build. A first argument `unit`, `integration` or `e2e` runs one
// kind; other arguments narrow the run by path fragment: `npm test -- e2e/daemon`. A full run ends
// with every fuzz target run briefly; `npm test -- fuzz [target...] [--time s]` runs only those.
// Unit tests need no root and no host tools, so they run in parallel; the others share the host's
// cgroups, netns pins and CNI state and run one file at a time.
import { spawnSync } from "node:child_process";
import { existsSync, globSync } from "node:fs";
import { availableParallelism } from "node:os";

const KINDS = ["unit", "integration", "e2e"];
const args = process.argv.slice(2);
// `fuzz` runs the fuzz targets briefly (scripts/fuzz.mjs); a full run (no arguments) ends with them.
if (args[0] === "fuzz") {
  const r = spawnSync(process.execPath, ["scripts/fuzz.mjs", ...args.slice(1)], { stdio: "inherit" });
  process.exit(r.status ?? 1);
}
const fullRun = args.length === 0;
const kinds = KINDS.includes(args[0] ?? "") ? [args.shift()] : KINDS;
const filters = args;
// tsc does not delete outputs of moved or removed tests: only files whose source still exists run.
const files = kinds.flatMap((k) => globSync(`dist/test/${k}/**/*.test.js`).sort())
  .filter((f) => existsSync(f.replace(/^dist\//, "").replace(/\.js$/, ".ts")))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error(`no test files match ${[...kinds, ...filters].join(" ")}`);
  process.exit(1);
}
const unitOnly = files.every((f) => f.startsWith("dist/test/unit/"));
const concurrency = unitOnly ? Math.max(1, availableParallelism()) : 1;
const r = spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", "--test", `--test-concurrency=${concurrency}`, "--test-reporter=spec", "--test-timeout=300000", ...files], { stdio: "inherit" });
if (!fullRun) process.exit(r.status ?? 1);
// Every fuzz target for a few seconds: a crash any of them finds fails the run.
const fuzz = spawnSync(process.execPath, ["scripts/fuzz.mjs"], { stdio: "inherit" });
process.exit(r.status || fuzz.status || (r.status === null || fuzz.status === null ? 1 : 0));
