// Runs every compiled test file (unit, then integration, then end-to-end) with node's test runner;
// `npm test` calls this after the build. A first argument `unit`, `integration` or `e2e` runs one
// kind; other arguments narrow the run by path fragment: `npm test -- e2e/daemon`.
// Unit tests need no root and no host tools, so they run in parallel; the others share the host's
// cgroups, netns pins and CNI state and run one file at a time.
import { spawnSync } from "node:child_process";
import { existsSync, globSync } from "node:fs";
import { availableParallelism } from "node:os";

const KINDS = ["unit", "integration", "e2e"];
const args = process.argv.slice(2);
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
process.exit(r.status ?? 1);
